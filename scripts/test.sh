#!/usr/bin/env bash
# `make test`: every check, in the order that fails fastest. Uses the private PostgreSQL cluster
# (scripts/local-pg.sh) unless MES_TEST_DATABASE_URL names a server where the test user may
# create databases (each Rust test gets its own).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
step() { printf '\n==> %s\n' "$*" >&2; }

step "set-up (installs only what is missing)"
scripts/setup.sh test

step "database"
if [ -n "${MES_TEST_DATABASE_URL:-}" ]; then
  export DATABASE_URL=$MES_TEST_DATABASE_URL
else
  scripts/local-pg.sh start
  DATABASE_URL=$(scripts/local-pg.sh url mes_test)
  export DATABASE_URL
fi

step "UI: type check, unit tests, build"
(cd ui && npm run --silent typecheck && npx vitest run && npx vite build --logLevel warn)

step "Rust: format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings

step "Rust: unit, integration and IPC tests (real PostgreSQL)"
cargo test --workspace --all-features -- --skip chaos_

step "Chaos: two headless instances through outages, freezes and kills (prints its seed and counts)"
cargo test -p mes-core --all-features --test chaos -- --nocapture

step "End-to-end: the real app window under Xvfb"
scripts/e2e.sh

step "Package: the .deb installed with dpkg, started, signed in, removed"
scripts/deb-test.sh
