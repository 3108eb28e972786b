#!/usr/bin/env bash
# End-to-end tests of the real app binary in a real WebKit window (Xvfb), driven through
# tauri-driver + WebKitWebDriver, against a fresh database on the private PostgreSQL cluster.
# Run alone with `make e2e`. Screenshots of failures land in e2e/artifacts/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

scripts/setup.sh test
scripts/local-pg.sh start
[ -f ui/dist/index.html ] || (cd ui && npx vite build --logLevel warn)
# The same features as `make test`'s cargo test, so this reuses its build.
cargo build --quiet -p mes-app -p mes-core --all-features

E2E_DB=mes_e2e
admin_url=$(scripts/local-pg.sh url postgres)
psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $E2E_DB WITH (FORCE)" -c "CREATE DATABASE $E2E_DB" >/dev/null
export MES_E2E_DATABASE_URL=$(scripts/local-pg.sh url $E2E_DB)
export MES_E2E_APP="${MES_E2E_APP:-$ROOT/target/debug/mes-app}"
export MES_E2E_ADMIN="$ROOT/target/debug/mes-admin"
export MES_E2E_PG_SCRIPT="$ROOT/scripts/local-pg.sh"
MES_DATABASE_URL=$MES_E2E_DATABASE_URL "$MES_E2E_ADMIN" seed

rm -rf e2e/artifacts && mkdir -p e2e/artifacts
xvfb-run -a -s "-screen 0 1280x800x24" \
  "$ROOT/.local/e2e-venv/bin/python" -m pytest e2e -v -p no:cacheprovider "$@"
