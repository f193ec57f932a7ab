#!/usr/bin/env bash
# Gets what the widget's build and browser tests need, once:
#   - Debian's Chromium (apt-get; as root, or through sudo), unless CHROMIUM points at one;
#   - the widget's pinned npm packages (esbuild, playwright-core) from widget/package-lock.json;
# then checks that the committed bundle widget/dist/agentpay.js is the build of widget/src.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "browser.sh: installing Chromium (Debian package chromium)" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

# npm ci only when the lock file changed since the last install.
stamp=widget/node_modules/.agentpay-lock
if [ ! -f "$stamp" ] || ! cmp -s widget/package-lock.json "$stamp"; then
  echo "browser.sh: installing the widget's npm packages" >&2
  (cd widget && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp widget/package-lock.json "$stamp"
fi
(cd widget && node build.mjs --check)
