#!/usr/bin/env bash
# `make run`: install what is missing, make sure a database is there, build, open the window.
#   MES_DATABASE_URL set   -> that database (migrated here with mes-admin if its user may; the app
#                             itself never changes the schema; no samples loaded)
#   MES_DATABASE_URL unset -> the private development cluster (scripts/local-pg.sh), migrated and,
#                             when its machines table is empty, loaded with the four samples.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

scripts/setup.sh run

if [ -z "${MES_DATABASE_URL:-}" ]; then
  scripts/local-pg.sh start
  MES_DATABASE_URL=$(scripts/local-pg.sh url mes)
  export MES_DATABASE_URL
  seed=1
else
  echo "run: using the database in MES_DATABASE_URL" >&2
  seed=${MES_SEED_SAMPLES:-0}
fi

(cd ui && npm run --silent build)
cargo build --quiet -p mes-app
if [ "$seed" = 1 ]; then
  cargo run --quiet -p mes-core --features cli --bin mes-admin -- seed
else
  cargo run --quiet -p mes-core --features cli --bin mes-admin -- migrate \
    || echo "run: could not migrate with this user; the window says what the database needs" >&2
fi

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display found. Run this from a desktop session, or headless: xvfb-run -a make run" >&2
  exit 1
fi
exec target/debug/mes-app
