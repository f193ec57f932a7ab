#!/bin/sh
# Exits 0 when AgentPay at $1 (default http://127.0.0.1:8080) is ready to serve, 1 otherwise.
url=${1:-http://127.0.0.1:8080}
curl -fsS --max-time 3 "$url/ready" >/dev/null
