# MES Machine Manager. Two commands set everything up on a fresh Debian 12:
#   make run    install what is missing, start a local PostgreSQL if no database is configured,
#               migrate, load the sample machines, open the window
#   make test   every check: UI type check and unit tests, fmt, clippy, Rust tests against a
#               real PostgreSQL, end-to-end tests of the real window under Xvfb
.PHONY: run test e2e bench load bindings screenshot deb deb-test db-start db-stop db-url clean

run:
	scripts/run.sh

test:
	scripts/test.sh

# The end-to-end suite alone (builds what it needs).
e2e:
	scripts/e2e.sh

# Benchmarks against the local PostgreSQL: latency ratios to raw sqlx round trips, paging at 100k.
bench:
	scripts/bench.sh $(ONLY)

# N simulated control-room PCs against one server (PCS="10 50 100 200", SECONDS_EACH=60).
load:
	PCS="$(PCS)" SECONDS_EACH="$(SECONDS_EACH)" scripts/load.sh

# Regenerate ui/src/bindings.ts after changing a command or a type, then commit it.
bindings:
	scripts/local-pg.sh start
	DATABASE_URL=$$(scripts/local-pg.sh url mes_test) UPDATE_BINDINGS=1 \
		cargo test -p mes-app --test app bindings

# Retake the README's screenshot of the real window (the e2e run saves it).
screenshot:
	MES_E2E_SCREENSHOT=$(CURDIR)/docs/screenshot.png \
	MES_E2E_PLANNER_SCREENSHOT=$(CURDIR)/docs/planner.png scripts/e2e.sh -k "sample_machines or planner_view"

# Install the (debug) .deb, start it in a real window, sign in, list, remove (part of `make test`).
deb-test:
	scripts/deb-test.sh

# A Debian package of the app (release build).
deb:
	scripts/setup.sh run
	cd ui && npm run --silent build
	cd src-tauri && npx --prefix ../ui tauri build --bundles deb

db-start:
	scripts/local-pg.sh start
db-stop:
	scripts/local-pg.sh stop
db-url:
	@scripts/local-pg.sh url

clean:
	cargo clean
	rm -rf ui/dist ui/node_modules .local/e2e-venv
