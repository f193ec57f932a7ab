# Shared by scripts/llm.sh and scripts/embedder.sh: a local HTTP server started in the
# background, with a pid file and a log, that answers GET /health with {"status": "ok"}.
# The sourcing script sets SCRIPT (its name for messages), URL, PIDFILE and LOG first.

log() { echo "$SCRIPT: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Exit status 0 when the server at $URL answers /health with status ok.
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

# Waits up to 60 s for the server whose pid is in $PIDFILE to become healthy, then prints
# "$1=$URL"; stops with the log's tail when it exits or stays unhealthy. $2 names it in errors.
wait_healthy() {
  for _ in $(seq 1 120); do
    if healthy; then echo "$1=$URL"; return; fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      tail -20 "$LOG" >&2
      die "the $2 exited"
    fi
    sleep 0.5
  done
  tail -20 "$LOG" >&2
  die "the $2 did not become healthy within 60 s"
}

# Exit status 0 when the process named by $PIDFILE is alive and serves $PORT: a server this
# script started that may still be loading, or too busy to answer a health check in time.
# Starting another one on the same port would race it. (A pid reused by another program after
# a reboot does not count: its command line does not name the port.)
alive() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qw -- "$PORT"
}

# Stops the server named by $PIDFILE, if any.
stop() {
  if [ -f "$PIDFILE" ]; then
    kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE"
  fi
}

# start | stop | status | url, with $1 the command and start() defined by the caller.
dispatch() {
  case "${1:-}" in
    # One start at a time (tests start the servers concurrently). The server itself must not
    # inherit the lock: its launch line closes descriptor 8.
    start) mkdir -p "$(dirname "$PIDFILE")"; exec 8>"$PIDFILE.lock"; flock 8; start ;;
    stop) stop ;;
    status) if healthy; then echo running; else echo stopped; exit 3; fi ;;
    url) echo "$URL" ;;
    *) die "usage: scripts/$SCRIPT start | stop | status | url" ;;
  esac
}
