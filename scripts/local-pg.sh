#!/usr/bin/env bash
# A private PostgreSQL cluster for development, tests and benchmarks, under .local/pg in the
# project (never the system cluster, never a plant's server). Port 54329 on 127.0.0.1 only.
#
#   scripts/local-pg.sh start   initialise on first use, start if stopped, create databases
#   scripts/local-pg.sh stop
#   scripts/local-pg.sh url [DB] print the connection URL (default database: mes)
#   scripts/local-pg.sh status
#   scripts/local-pg.sh standby DIR PORT   a streaming standby of the cluster in DIR on PORT
#                                          (pg_basebackup -R), started (the failover test)
#   scripts/local-pg.sh promote            make this standby the primary
#
# The superuser "mes" gets a random password, generated once into .local/pg/password (mode 600).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# As root the server runs as the postgres user, which must be able to reach the data folder; when
# the checkout lies where it cannot (a private home), the cluster goes to /var/tmp instead.
# MES_PG_CLUSTER names another private cluster beside it (the load generator's: "pg-load").
CLUSTER=${MES_PG_CLUSTER:-pg}
default_dir() {
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$ROOT" 2>/dev/null; then
    echo "/var/tmp/mes-local-$CLUSTER-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)"
  else
    echo "$ROOT/.local/$CLUSTER"
  fi
}
DIR=${MES_PG_DIR:-$(default_dir)}
PORT=${MES_PG_PORT:-54329}
DATA=$DIR/data
SOCK=$DIR/run

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$bin" ] || { echo "local-pg: PostgreSQL server binaries not found (run scripts/setup.sh)" >&2; exit 1; }
  echo "$bin"
}

# initdb and the server refuse to run as root: as root, run them as the postgres user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

password() { cat "$DIR/password"; }

url() { echo "postgres://mes:$(password)@127.0.0.1:$PORT/${1:-mes}"; }

running() { [ -f "$DATA/postmaster.pid" ] && as_owner "$(pg_bin)/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

init() {
  [ -f "$DATA/PG_VERSION" ] && return 0
  mkdir -p "$DIR" "$SOCK"
  if [ ! -f "$DIR/password" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$DIR/password")
  fi
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$DIR"; fi
  echo "local-pg: initialising a private cluster in $DATA" >&2
  as_owner "$(pg_bin)/initdb" -D "$DATA" -U mes --pwfile="$DIR/password" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
}

start() {
  init
  if ! running; then
    as_owner "$(pg_bin)/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
      -o "-p $PORT -k $SOCK -c listen_addresses=127.0.0.1 -c max_connections=${MES_PG_MAX_CONNECTIONS:-200}" start >/dev/null \
      || { tail -n 20 "$DIR/server.log" >&2; exit 1; }
  fi
  for db in mes mes_test; do
    if ! as_owner psql -h "$SOCK" -p "$PORT" -U mes -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
      as_owner psql -h "$SOCK" -p "$PORT" -U mes -d postgres -qc "CREATE DATABASE $db" >/dev/null
    fi
  done
  echo "local-pg: running on 127.0.0.1:$PORT (data in $DATA)" >&2
}

# A streaming replica of another private cluster: its data copied with pg_basebackup -R (which
# writes primary_conninfo and standby.signal), then started read-only.
standby() {
  local source_dir=$1 source_port=$2
  if [ ! -f "$DATA/PG_VERSION" ]; then
    mkdir -p "$DIR" "$SOCK"
    cp "$source_dir/password" "$DIR/password"
    if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$DIR"; fi
    as_owner "$(pg_bin)/pg_basebackup" -h "$source_dir/run" -p "$source_port" -U mes \
      -D "$DATA" -R -X stream -c fast >"$DIR/basebackup.log" 2>&1 \
      || { cat "$DIR/basebackup.log" >&2; exit 1; }
  fi
  start
}

promote() { as_owner "$(pg_bin)/pg_ctl" -D "$DATA" -w -t 60 promote >/dev/null; }

stop() {
  if running; then as_owner "$(pg_bin)/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url "${2:-mes}" ;;
  standby) standby "$2" "$3" ;;
  promote) promote ;;
  status) if running; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 start|stop|url [DB]|status|standby DIR PORT|promote" >&2; exit 2 ;;
esac
