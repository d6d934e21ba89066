# Assure: `make run` serves the demo portal; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := portal

.PHONY: run reset-demo test lint format install install-test system-libraries browser office openid-provider haproxy bench-tools migration clean

# Installs Debian packages that are missing, when apt-get is here (as root, or through sudo that asks
# nothing); else says what goes without. $(call debian,<packages>,<what for>,<what happens without them>,<apt options>)
debian = dpkg -s $(1) >/dev/null 2>&1 || ! command -v apt-get >/dev/null || { \
	echo "Installing $(2) from Debian's packages"; \
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo -n ); \
	$$SUDO apt-get update -qq && \
	$$SUDO apt-get install -y -qq $(4) $(1) >/dev/null || \
	echo "$(3)"; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python system-libraries
	$(BIN)/pip install --quiet -e '.[serve]'

install-test: $(BIN)/python system-libraries
	$(BIN)/pip install --quiet -e '.[test]'

# What the PDF export needs from the system: Pango for WeasyPrint, and the fonts the print stylesheet names.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation fonts-dejavu-core
system-libraries:
	@$(call debian,$(SYSTEM_PACKAGES),Pango and fonts for the PDF export,Pango could not be installed: the PDF export will say what is missing,--no-install-recommends)

instance/secret_key:
	@mkdir -p instance
	@$(PYTHON) -c "import secrets; print(secrets.token_hex(32))" > $@

# Serves on plain HTTP on loopback, so the session cookie may not be marked Secure here. One process
# with threads, so the sign-in counters (kept in memory unless REDIS_URL is set) are exact.
run: install instance/secret_key
	@export SECRET_KEY=$$(cat instance/secret_key) SESSION_COOKIE_SECURE=false; \
	$(BIN)/flask db upgrade && \
	$(BIN)/flask demo --if-empty && \
	echo && echo "Assure is running at http://127.0.0.1:$(PORT)  (Ctrl+C to stop)" && echo && \
	exec $(BIN)/gunicorn --workers 1 --threads 4 --bind 127.0.0.1:$(PORT) --access-logfile - 'portal:create_app()'

# Start the demo again from scratch: asks, then empties the database and loads the demo portfolio afresh.
reset-demo: install instance/secret_key
	@export SECRET_KEY=$$(cat instance/secret_key); \
	$(BIN)/flask db upgrade && $(BIN)/flask demo --reset

# Debian's Chromium for the browser tests; never a browser download of the test tool's own.
browser:
	@$(call debian,chromium,Chromium for the browser tests,Chromium could not be installed: the browser tests will be skipped)

# LibreOffice (Calc and Writer, no GUI) for the tests that print the workbook and open the Word document as
# people's office software would; with Carlito, which has Calibri's widths, so text measures as in Excel.
OFFICE_PACKAGES := libreoffice-calc-nogui libreoffice-writer-nogui fonts-crosextra-carlito
office:
	@$(call debian,$(OFFICE_PACKAGES),LibreOffice for the print and Word tests,LibreOffice could not be installed: the print and Word tests will be skipped,--no-install-recommends)

# Debian's haproxy, for the test that serves one portal from two app servers behind a proxy (tests/scale/).
haproxy:
	@$(call debian,haproxy,haproxy for the two-server test,haproxy could not be installed: the two-server test will be skipped,--no-install-recommends)

# Debian's wrk, the HTTP load generator the benchmark's throughput table uses (without it the benchmark
# falls back to its own Python client, and says so in the table).
bench-tools:
	@$(call debian,wrk,wrk for the benchmark's throughput table,wrk could not be installed: the benchmark will use its Python client,--no-install-recommends)

# The OpenID provider the single sign-on tests run (oidc-provider on Node.js, tests/oidc/): installed once
# from its lock file, again only when the lock file changes.
OIDC_DIR := tests/oidc
$(OIDC_DIR)/node_modules/.package-lock.json: $(OIDC_DIR)/package-lock.json
	@command -v npm >/dev/null || { \
		echo "Installing Node.js from Debian's packages for the single sign-on tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo -n ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }
	cd $(OIDC_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

openid-provider: $(OIDC_DIR)/node_modules/.package-lock.json

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The suite runs on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set, spread over every core
# (pytest-xdist: each worker has its own database). The two-server test (tests/scale/) needs PostgreSQL and
# Redis whatever the suite's database, so it runs once, in the first pass (TEST_SCALE_DATABASE_URL says where).
test: install-test browser office openid-provider haproxy bench-tools lint
	TEST_SCALE_DATABASE_URL="$${TEST_DATABASE_URL:-}" env -u TEST_DATABASE_URL $(BIN)/pytest -n auto --dist loadgroup
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then \
		echo "Running the suite again on PostgreSQL"; \
		$(BIN)/pytest -n auto -m "not browser and not scale"; \
	fi

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate a migration after changing evidence/models.py: make migration m="what changed"
migration: install
	rm -f instance/migration-check.sqlite
	SECRET_KEY=migration DATABASE_URL=sqlite:///$(CURDIR)/instance/migration-check.sqlite $(BIN)/flask db upgrade
	SECRET_KEY=migration DATABASE_URL=sqlite:///$(CURDIR)/instance/migration-check.sqlite $(BIN)/flask db migrate -m "$(m)"
	rm -f instance/migration-check.sqlite

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache $(OIDC_DIR)/node_modules
