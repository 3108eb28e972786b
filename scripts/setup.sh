#!/usr/bin/env bash
# Installs what building, running and testing need, only what is missing:
#   Debian packages (WebKitGTK for the window, PostgreSQL, Xvfb and WebKitWebDriver for the
#   end-to-end tests; PgBouncer for its test), the UI's npm packages, tauri-driver, and a Python venv with selenium.
# Usage: scripts/setup.sh [run|test]   (run: only what `make run` needs)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:-test}

say() { printf 'setup: %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev postgresql postgresql-client curl)
if [ "$MODE" = test ]; then
  packages+=(xvfb xauth webkit2gtk-driver python3-venv dbus-daemon openssl gnome-keyring libsecret-tools pgbouncer)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! need cargo; then
  say "Rust is missing: install it with rustup (https://rustup.rs), version 1.80 or newer, then run this again."
  exit 1
fi
if ! need node || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  say "Node.js 20.19 or newer (with npm) is needed for the UI build; install it, then run this again."
  exit 1
fi

# UI packages: reinstall when package-lock.json changed since the last install.
stamp="$ROOT/ui/node_modules/.installed-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/ui/package-lock.json" "$stamp"; then
  say "installing the UI's npm packages"
  (cd "$ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$ROOT/ui/package-lock.json" "$stamp"
fi

if [ "$MODE" = test ]; then
  if ! need tauri-driver; then
    say "installing tauri-driver (WebDriver bridge for the end-to-end tests)"
    cargo install tauri-driver --version '^2' --locked --quiet
  fi
  venv="$ROOT/.local/e2e-venv"
  if [ ! -x "$venv/bin/pytest" ] || ! cmp -s "$ROOT/e2e/requirements.txt" "$venv/.requirements"; then
    say "creating the end-to-end test environment (selenium, pytest) in $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/e2e/requirements.txt"
    cp "$ROOT/e2e/requirements.txt" "$venv/.requirements"
  fi
fi
