// Builds the widget: src/index.js → dist/agentpay.js, one minified IIFE (ES2020), plus
// dist/agentpay.js.sha384 with its Subresource Integrity string.
//
//   node build.mjs           build, print the sizes, write dist/
//   node build.mjs --check   build in memory and fail if dist/ differs (CI: the committed bundle
//                            must be the build of the committed source)
//
// The build is deterministic: same source and same esbuild version, same bytes.

import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outFile = join(here, 'dist', 'agentpay.js');
const sriFile = outFile + '.sha384';
const GZIP_LIMIT = 30 * 1024;
const check = process.argv.includes('--check');

const pkg = JSON.parse(await readFile(join(here, 'package.json'), 'utf8'));

const result = await build({
  absWorkingDir: here,
  entryPoints: ['src/index.js'],
  outfile: 'dist/agentpay.js',
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  charset: 'ascii',
  legalComments: 'none',
  sourcemap: false,
  banner: { js: `/*! AgentPay chat widget ${pkg.version} */` },
  write: false,
  logLevel: 'warning',
});

const code = Buffer.from(result.outputFiles[0].contents);
const gzipped = gzipSync(code, { level: 9 }).length;
const sri = 'sha384-' + createHash('sha384').update(code).digest('base64');

const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.log(`dist/agentpay.js  ${code.length} bytes (${kb(code.length)}), gzip ${gzipped} bytes (${kb(gzipped)})`);
console.log(`integrity         ${sri}`);

if (gzipped > GZIP_LIMIT) {
  console.error(`error: the gzipped bundle is ${gzipped} bytes, over the ${GZIP_LIMIT}-byte budget`);
  process.exit(1);
}

if (check) {
  const read = (file) => readFile(file).catch(() => null);
  const [committed, committedSri] = await Promise.all([read(outFile), read(sriFile)]);
  const problems = [];
  if (!committed) problems.push('dist/agentpay.js is missing');
  else if (!committed.equals(code)) problems.push('dist/agentpay.js differs from a fresh build of src/');
  if (!committedSri) problems.push('dist/agentpay.js.sha384 is missing');
  else if (committedSri.toString('utf8').trim() !== sri) problems.push('dist/agentpay.js.sha384 does not match the fresh build');
  if (problems.length) {
    for (const problem of problems) console.error('error: ' + problem);
    console.error('Run `npm run build` in widget/ and commit dist/.');
    process.exit(1);
  }
  console.log('ok: dist/ matches the source');
} else {
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, code);
  await writeFile(sriFile, sri);
  console.log('wrote dist/agentpay.js and dist/agentpay.js.sha384');
}
