#!/usr/bin/env bash
# `make load`: N simulated control-room PCs (the app's real core each) against one PostgreSQL;
# prints per operation p50/p99, server connections, notification delay and CPU for each N.
#   make load                      N = 10 50 100 200, 60 s each
#   make load PCS="200" SECONDS=120
# Against a private cluster of its own (.local/pg-load, port 54339, max_connections = 1000: 200
# PCs hold up to 4 connections each), or MES_LOAD_URL (a superuser URL to a server's `postgres`
# database, where `mes_load` is made anew for each N).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

scripts/setup.sh test >/dev/null
if [ -z "${MES_LOAD_URL:-}" ]; then
  export MES_PG_CLUSTER=pg-load MES_PG_PORT=${MES_LOAD_PORT:-54339} MES_PG_MAX_CONNECTIONS=1000
  scripts/local-pg.sh start
  MES_LOAD_URL=$(scripts/local-pg.sh url postgres)
  export MES_LOAD_URL
fi
PCS=${PCS:-}; SECONDS_EACH=${SECONDS_EACH:-}
export MES_LOAD_PCS=${PCS:-${MES_LOAD_PCS:-10 50 100 200}}
export MES_LOAD_SECONDS=${SECONDS_EACH:-${MES_LOAD_SECONDS:-60}}
# 200 PCs' outboxes, pools and listeners in one process.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo run --quiet --release -p mes-core --features cli --example load
