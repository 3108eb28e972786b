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
# `make bench ONLY=replay` (or ONLY=paging, ONLY=offline, ONLY=ops, ONLY=planner, ONLY=history,
# ONLY=oee) measures only that part.
cargo bench -p mes-app --bench registry -- "$@"
[ $# -eq 0 ] || exit 0

# The real window: launch time and memory at 4 and 100,000 machines, and the planner view's
# first paint at plant scale (debug build, as `make run`).
if [ -z "${MES_BENCH_DATABASE_URL:-}" ]; then
  scripts/setup.sh test
  cargo build --quiet -p mes-app -p mes-core --all-features
  MES_E2E_APP="$ROOT/target/debug/mes-app" MES_E2E_ADMIN="$ROOT/target/debug/mes-admin" \
    xvfb-run -a -s "-screen 0 1280x800x24" .local/e2e-venv/bin/python e2e/measure_window.py \
    | tee -a bench-results/registry.md
  # The planner view's first paint on the plant-scale data the planner benchmark left in mes_bench.
  MES_E2E_APP="$ROOT/target/debug/mes-app" \
    xvfb-run -a -s "-screen 0 1280x800x24" .local/e2e-venv/bin/python e2e/measure_planner.py \
    | tee -a bench-results/registry.md
fi
