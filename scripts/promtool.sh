#!/usr/bin/env bash
# Prints the path of a `promtool`, installing it first if needed. promtool ships in Debian's
# `prometheus` package; only the binary is unpacked (into .data/prom), the daemon is not
# installed or started.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST="$REPO/.data/prom"
if command -v promtool >/dev/null 2>&1; then command -v promtool; exit 0; fi
if [ -x "$DEST/usr/bin/promtool" ]; then echo "$DEST/usr/bin/promtool"; exit 0; fi
mkdir -p "$DEST"
exec 9>"$REPO/.data/prom.lock"
flock 9
if [ ! -x "$DEST/usr/bin/promtool" ]; then
  echo "promtool.sh: downloading Debian's prometheus package for promtool" >&2
  tmp=$(mktemp -d)
  # `apt-get download` needs package lists; refresh them once if it cannot find the package.
  (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1) \
    || { apt-get update >/dev/null 2>&1 && (cd "$tmp" && apt-get download prometheus >/dev/null); } \
    || { echo "promtool.sh: could not download the prometheus package" >&2; exit 1; }
  chmod 755 "$tmp"
  dpkg -x "$tmp"/prometheus_*.deb "$tmp/x"
  mkdir -p "$DEST/usr/bin"
  cp "$tmp/x/usr/bin/promtool" "$DEST/usr/bin/promtool"
  rm -rf "$tmp"
fi
echo "$DEST/usr/bin/promtool"
