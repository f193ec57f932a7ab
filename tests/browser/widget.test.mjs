// The chat widget in a real headless Chromium (Debian's `chromium`, driven by playwright-core),
// against real engine servers started by `tests/api/browser.rs`, which passes:
//   SHOP_URL     the demo store's server (offline agent, simulated payments)
//   SLOW_URL     a server whose replies stream slowly (simulated model), for reloads mid-reply
//   OTHER_PORT   a free port for a page of another origin
//   OTHER_PK     the publishable key of a merchant that allows http://127.0.0.1:OTHER_PORT only,
//                whose catalog holds a product with a hostile title
//   SHOTS_DIR    where to save screenshots
// Each check prints `ok - …` or throws; the process exits non-zero on the first failure.
// The last line is `METRICS {json}`: bundle size and time to interactive.

import { createRequire } from 'node:module';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(new URL('../../widget/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const SHOP = env('SHOP_URL');
const SLOW = env('SLOW_URL');
const OTHER_PORT = Number(env('OTHER_PORT'));
const OTHER_PK = env('OTHER_PK');
const SHOTS = env('SHOTS_DIR');
const TIMEOUT = 20_000;

function ok(name) {
  console.log(`ok - ${name}`);
}
function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

// A page of another origin embedding the widget with one tag.
const other = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another shop</title>
<style>button, div, p { all: unset; color: red !important; font-size: 40px !important; }</style></head>
<body><h1>Another shop</h1>
<script src="${SHOP}/widget/v1/agentpay.js" data-publishable-key="${OTHER_PK}" async></script>
</body></html>`);
});
await new Promise((r) => other.listen(OTHER_PORT, '127.0.0.1', r));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  chromiumSandbox: false,
  args: ['--disable-dev-shm-usage'],
});
const metrics = {};

/** A fresh page; console errors are collected. */
async function open(url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  // The development catalog's image addresses are placeholders that resolve nowhere (offline).
  await context.route(/^https:\/\/cdn\.example-store\.test\//, (r) =>
    r.fulfill({
      status: 200,
      contentType: 'image/svg+xml',
      body: '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>',
    }),
  );
  const page = await context.newPage();
  page.consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') page.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => page.consoleErrors.push(String(e)));
  await page.goto(url);
  return page;
}

const $ = (page, test) => page.locator(`[data-test="${test}"]`);

async function say(page, text) {
  await $(page, 'input').fill(text);
  await $(page, 'send').click();
}

/** The text of the last assistant bubble once it stops changing. */
async function settled(page) {
  let last = null;
  for (let i = 0; i < 100; i++) {
    const texts = await page
      .locator('[data-test="message"][data-role="assistant"]')
      .allTextContents();
    const now = texts.join('\n---\n');
    if (now === last) return texts;
    last = now;
    await page.waitForTimeout(400);
  }
  throw new Error('the replies never settled');
}

try {
  // 1. The demo store: search, cards, cart, checkout, paid.
  {
    const page = await open(`${SHOP}/demo`);
    await $(page, 'launcher').waitFor({ timeout: TIMEOUT });
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const script = performance
        .getEntriesByType('resource')
        .find((r) => r.name.includes('/widget/v1/agentpay.js'));
      return {
        dom_content_loaded_ms: Math.round(nav.domContentLoadedEventEnd),
        launcher_visible_ms: Math.round(performance.now()),
        script_loaded_ms: script ? Math.round(script.responseEnd) : null,
        script_transfer_bytes: script ? script.transferSize : null,
        script_decoded_bytes: script ? script.decodedBodySize : null,
      };
    });
    Object.assign(metrics, timing);
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'demo-store.png') });
    ok('the demo store shows the launcher');

    await $(page, 'launcher').click();
    await $(page, 'panel').waitFor({ timeout: TIMEOUT });
    await page.locator('[data-test="message"][data-role="assistant"]').first().waitFor();
    await say(page, 'show me rain jackets');
    await page.locator('[data-test="message"][data-role="user"]').filter({ hasText: 'show me rain jackets' }).waitFor();
    await $(page, 'product').first().waitFor({ timeout: TIMEOUT });
    const cards = await $(page, 'product').count();
    assert(cards >= 1, 'product cards');
    const cardText = (await $(page, 'product').first().textContent()).toLowerCase();
    assert(/jacket|shell|rain/.test(cardText), `a rain jacket card: ${cardText}`);
    const reply = await settled(page);
    assert(reply[reply.length - 1].trim().length > 0, 'streamed text');
    ok(`"show me rain jackets" shows ${cards} product cards and a reply`);
    await page.screenshot({ path: path.join(SHOTS, 'demo-chat.png') });

    await $(page, 'add-to-cart').first().click();
    // Rain jackets come in sizes: the card asks for one.
    const option = $(page, 'product').first().locator('[data-test="variant-option"]').first();
    await option.waitFor({ timeout: TIMEOUT });
    await option.click();
    await page.waitForFunction(
      () => {
        const host = document.querySelector('agentpay-chat');
        const count = host?.shadowRoot?.querySelector('[data-test="cart-count"]');
        return count && count.textContent.trim() === '1';
      },
      null,
      { timeout: TIMEOUT },
    );
    await $(page, 'cart-button').click();
    await $(page, 'cart-line').first().waitFor({ timeout: TIMEOUT });
    assert((await $(page, 'cart-total').textContent()).trim().length > 0, 'cart total');
    ok('"Add to cart" fills the cart drawer');

    await say(page, 'checkout');
    const pay = $(page, 'checkout').first();
    await pay.waitFor({ timeout: TIMEOUT });
    const url = await pay.getAttribute('href');
    assert(url && url.includes('/checkout/'), `checkout link: ${url}`);
    const payment = await page.context().newPage();
    await payment.goto(url);
    await payment.locator('button.pay').click();
    await payment.getByText('Thank you').waitFor({ timeout: TIMEOUT });
    await page.locator('[data-test="order-status"][data-status="paid"]').first().waitFor({ timeout: TIMEOUT });
    ok('checkout through the simulated provider shows "paid" in the chat');
    assert(page.consoleErrors.length === 0, `no console errors: ${page.consoleErrors}`);
    await page.context().close();
  }

  // 2. Keyboard only: launcher, send, focus trap, Escape.
  {
    const page = await open(`${SHOP}/demo`);
    await $(page, 'launcher').waitFor({ timeout: TIMEOUT });
    let found = false;
    for (let i = 0; i < 10 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(
        () =>
          document.activeElement?.tagName === 'AGENTPAY-CHAT' &&
          document.activeElement.shadowRoot.activeElement?.dataset.test === 'launcher',
      );
    }
    assert(found, 'the launcher is reachable with Tab');
    await page.keyboard.press('Enter');
    await $(page, 'panel').waitFor({ timeout: TIMEOUT });
    const inside = () =>
      page.evaluate(() => {
        const root = document.querySelector('agentpay-chat').shadowRoot;
        const panel = root.querySelector('[data-test="panel"]');
        return !!root.activeElement && panel.contains(root.activeElement);
      });
    assert(await inside(), 'focus moves into the panel');
    await $(page, 'input').focus();
    await page.keyboard.type('do you have tents?');
    await page.keyboard.press('Enter');
    await page.locator('[data-test="message"][data-role="user"]').filter({ hasText: 'do you have tents?' }).waitFor({ timeout: TIMEOUT });
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press('Tab');
      assert(await inside(), `focus stays in the panel (Tab ${i + 1})`);
    }
    await page.keyboard.press('Escape');
    await $(page, 'panel').waitFor({ state: 'hidden', timeout: TIMEOUT });
    const back = await page.evaluate(
      () => document.querySelector('agentpay-chat').shadowRoot.activeElement?.dataset.test,
    );
    assert(back === 'launcher', `focus returns to the launcher (${back})`);
    ok('keyboard only: open, type, send, focus trapped, Escape closes');
    await page.context().close();
  }

  // 3. Reload mid-reply: the reply completes once, with no duplicates.
  {
    const page = await open(`${SLOW}/demo`);
    await $(page, 'launcher').click();
    await $(page, 'panel').waitFor({ timeout: TIMEOUT });
    await say(page, 'tell me about your store');
    const streaming = page.locator('[data-test="message"][data-role="assistant"][data-message-id]');
    await page.waitForFunction(
      () => {
        const root = document.querySelector('agentpay-chat').shadowRoot;
        const m = root.querySelectorAll('[data-test="message"][data-role="assistant"][data-message-id]');
        return m.length > 0 && m[m.length - 1].textContent.trim().length > 3;
      },
      null,
      { timeout: TIMEOUT },
    );
    const partial = (await streaming.last().textContent()).trim();
    await page.reload();
    await $(page, 'launcher').waitFor({ timeout: TIMEOUT });
    if (!(await $(page, 'panel').isVisible())) await $(page, 'launcher').click();
    await streaming.first().waitFor({ timeout: TIMEOUT });
    const texts = await settled(page);
    const replies = await streaming.count();
    assert(replies === 1, `one reply bubble after the reload, got ${replies}`);
    const users = await page
      .locator('[data-test="message"][data-role="user"]')
      .filter({ hasText: 'tell me about your store' })
      .count();
    assert(users === 1, `one visitor bubble after the reload, got ${users}`);
    // The bubble holds exactly the stored reply.
    const stored = await page.evaluate(async (base) => {
      const key = Object.keys(localStorage).find((k) => k.startsWith('agentpay:'));
      const conv = JSON.parse(localStorage.getItem(key));
      const res = await fetch(`${base}/v1/conversations/${conv.id}/messages`, {
        headers: { authorization: `Bearer ${conv.token}` },
      });
      const body = await res.json();
      return body.data.filter((m) => m.role === 'assistant').map((m) => m.text);
    }, SLOW);
    const shown = texts[texts.length - 1].trim();
    assert(stored.length === 1 && stored[0].trim() === shown, `shown ${JSON.stringify(shown)} vs stored ${JSON.stringify(stored)}`);
    assert(shown.startsWith(partial.slice(0, 3)), 'the same reply continued');
    ok(`a reload mid-reply (at ${partial.length} chars) completes the reply once`);
    await page.context().close();
  }

  // 4. Another origin: allowed works (and a hostile title is text); refused shows no chat.
  {
    const page = await open(`http://127.0.0.1:${OTHER_PORT}/`);
    await $(page, 'launcher').waitFor({ timeout: TIMEOUT });
    const style = await $(page, 'launcher').evaluate((el) => getComputedStyle(el).fontSize);
    assert(style !== '40px', 'the page CSS does not reach the widget');
    await $(page, 'launcher').click();
    await say(page, 'show me the hostile tent');
    const card = $(page, 'product').first();
    await card.waitFor({ timeout: TIMEOUT });
    const text = await card.textContent();
    assert(text.includes('<img'), `the hostile title shows as text: ${text}`);
    assert((await card.locator('img[src="x"]').count()) === 0, 'no injected image');
    const pwned = await page.evaluate(() => window.__pwned === 1);
    assert(!pwned, 'no script ran');
    ok('an allowed origin gets the chat; a hostile product title renders as text');
    await page.context().close();

    const refused = await open(`http://localhost:${OTHER_PORT}/`);
    await refused.waitForFunction(
      () => document.querySelector('agentpay-chat')?.dataset.state === 'disabled',
      null,
      { timeout: TIMEOUT },
    );
    assert((await $(refused, 'launcher').count()) === 0, 'no launcher on a refused origin');
    const errors = refused.consoleErrors.join('\n');
    assert(/AgentPay/.test(errors) && /not allowed/.test(errors), `a clear console error: ${errors}`);
    ok('an origin the merchant does not allow gets no chat and a console error');
    await refused.context().close();
  }
} finally {
  await browser.close();
  other.close();
}
console.log(`METRICS ${JSON.stringify(metrics)}`);
