#!/usr/bin/env bash
# `make bench`: benchmarks against the private PostgreSQL cluster (or MES_BENCH_DATABASE_URL,
# a server where the `mes_bench` database may be created and dropped).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
scripts/setup.sh run
if [ -n "${MES_BENCH_DATABASE_URL:-}" ]; then
  export DATABASE_URL=$MES_BENCH_DATABASE_URL
else
  scripts/local-pg.sh start
  DATABASE_URL=$(scripts/local-pg.sh url postgres)
  export DATABASE_URL
fi
[ -f ui/dist/index.html ] || (cd ui && npx vite build --logLevel warn)
cargo bench -p mes-app --bench registry
