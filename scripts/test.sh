#!/usr/bin/env bash
# Runs the whole test suite, starting what it needs first:
#   - the local PostgreSQL 18 + pgvector (scripts/pg.sh; reused when already running), unless
#     AGENTPAY_TEST_DATABASE_URL points at another server that can create databases;
#   - promtool (scripts/promtool.sh), for the /metrics format test;
#   - the multilingual embeddings server (scripts/embedder.sh), the default embedder, and the
#     all-MiniLM-L6-v2 model files (scripts/models.sh) for the in-process option's tests;
#   - Chromium and the widget's npm packages (scripts/browser.sh), for the browser tests, and a
#     check that the committed widget bundle is the build of its source.
# Each test creates its own database and drops it. Extra arguments go to `cargo nextest run`
# (for example a filter: scripts/test.sh merchants).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -z "${AGENTPAY_TEST_DATABASE_URL:-}" ]; then
  url=$(scripts/pg.sh start | sed -n 's/^DATABASE_URL=//p')
  [ -n "$url" ] || { echo "test.sh: scripts/pg.sh start printed no DATABASE_URL" >&2; exit 1; }
  export AGENTPAY_TEST_DATABASE_URL=$url
fi
echo "test.sh: test Postgres at $AGENTPAY_TEST_DATABASE_URL" >&2
scripts/promtool.sh >/dev/null
# The default embedder (multilingual-e5-small behind a local server: catalog search, the demo
# store, the relevance targets) and the in-process all-MiniLM-L6-v2 option's model files.
scripts/embedder.sh start >/dev/null
scripts/models.sh fetch >/dev/null
# The real local model for the OpenAI-compatible provider's end-to-end test (its test also
# starts it when missing; starting here keeps the install out of the test's time).
scripts/llm.sh start >/dev/null
scripts/browser.sh

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "test.sh: installing cargo-nextest" >&2
  cargo install cargo-nextest --locked
fi
# --no-fail-fast: one failure should not hide the others.
cargo nextest run --workspace --no-fail-fast "$@"
