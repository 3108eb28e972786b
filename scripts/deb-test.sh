#!/usr/bin/env bash
# The package as a plant installs it: builds the .deb from the debug build `make test` already
# made (`tauri build --debug`), installs it with dpkg, checks what it put where, starts the
# installed binary in a real window (Xvfb) where a new user configures the database, signs in
# and sees the machines, then removes the package and checks nothing of it is left.
# `make deb` builds the release package; this test uses the debug one to reuse the build.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
say() { printf 'deb-test: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

PACKAGE=mes-machine-manager
[ -f ui/dist/index.html ] || (cd ui && npx vite build --logLevel warn)
say "building the debug .deb"
(cd src-tauri && npx --prefix ../ui tauri build --debug --bundles deb)
deb=$(ls -t target/debug/bundle/deb/*.deb | head -1)
say "package: $deb ($(du -h "$deb" | cut -f1))"

# What the package says about itself.
maintainer=$(dpkg-deb -f "$deb" Maintainer)
description=$(dpkg-deb -f "$deb" Description)
[ "$(dpkg-deb -f "$deb" Package)" = "$PACKAGE" ] || { say "wrong package name"; exit 1; }
case "$maintainer" in *@*) ;; *) say "no maintainer address: $maintainer"; exit 1 ;; esac
case "$description" in *"Manufacturing Execution System"*) ;; *) say "no description: $description"; exit 1 ;; esac
# The listing is read whole (a `grep -q` on the pipe would stop dpkg-deb mid-way: SIGPIPE).
contents=$(dpkg-deb -c "$deb")
case "$contents" in *"usr/share/doc/$PACKAGE/copyright"*) ;; *) say "no copyright file"; exit 1 ;; esac

as_root dpkg --remove "$PACKAGE" >/dev/null 2>&1 || true
say "installing"
if ! as_root dpkg -i "$deb"; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq --no-install-recommends
fi
trap 'as_root dpkg --remove "$PACKAGE" >/dev/null 2>&1 || true' EXIT
for path in /usr/bin/mes-app "/usr/share/applications/MES Machine Manager.desktop" \
            /usr/share/icons/hicolor/128x128/apps/mes-app.png "/usr/share/doc/$PACKAGE/copyright"; do
  [ -e "$path" ] || { say "missing after install: $path"; exit 1; }
done
grep -q "^Exec=mes-app" "/usr/share/applications/MES Machine Manager.desktop" \
  || { say "the desktop entry does not start mes-app"; exit 1; }
cmp -s LICENSE "/usr/share/doc/$PACKAGE/copyright" || { say "the copyright file is not the LICENSE"; exit 1; }

say "starting the installed app"
MES_E2E_APP=/usr/bin/mes-app MES_E2E_INSTALLED=1 scripts/e2e.sh -k installed

say "removing"
as_root dpkg --remove "$PACKAGE"
trap - EXIT
[ ! -e /usr/bin/mes-app ] || { say "/usr/bin/mes-app is still there after removal"; exit 1; }
say "ok: installed, started, signed in, listed, removed"
