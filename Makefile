# Terminal CSD Portal: the only entry points a person needs.
#   make run    set everything up and serve on http://127.0.0.1:$(PORT)
#   make test   set everything up, lint, and run the whole test suite
#   make lint   ruff (configured in pyproject.toml) on portal and tests
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi

APT_RUN := fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0
APT_TEST := $(APT_RUN) chromium poppler-utils

.PHONY: run test bench load i18n translations system-deps-run system-deps-test db demo index lint clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed-run

# Debian packages: CJK fonts and HarfBuzz subsetting for PDFs; Chromium for browser tests.
# Installed with apt-get when running as root and missing; otherwise the command to run is printed.
system-deps-run:
	@bash tools/system-deps.sh $(APT_RUN)

system-deps-test:
	@bash tools/system-deps.sh $(APT_TEST)

translations: $(VENV)/.installed-run
	@$(BIN)/pybabel compile -d portal/translations

db: $(VENV)/.installed-run translations
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo load --if-empty

index: db
	$(BIN)/flask search rebuild --if-needed

run: system-deps-run $(VENV)/.installed-run translations db demo index
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check portal tests

# Two lanes side by side, one core each: the whole suite on SQLite and (TEST_DATABASE_URL set) the database tests
# again on PostgreSQL; tests/search with Whoosh's own code runs after whichever lane ends first. The SQLite lane
# prints as it goes; the output of the other two follows when all are done. (Lanes started with & ignore Ctrl-C:
# the trap stops them.)
test: system-deps-test $(VENV)/.installed-test translations lint
	@out=$$(mktemp -d); status=0; lanes="sqlite whoosh"; \
	whoosh() { env -u TEST_DATABASE_URL PORTAL_SEARCH_FAST_PATH=0 $(BIN)/pytest -p no:cacheprovider tests/search \
	  >"$$out/whoosh.log" 2>&1; echo $$? >"$$out/whoosh.rc"; }; \
	if [ -n "$$TEST_DATABASE_URL" ]; then \
	  lanes="$$lanes postgresql"; \
	  trap 'trap "" INT TERM; kill 0; rm -rf "$$out"; exit 130' INT TERM; \
	  echo "== the database tests on PostgreSQL ($$TEST_DATABASE_URL) run beside the SQLite suite"; \
	  { $(BIN)/pytest -m "not e2e" -p no:cacheprovider >"$$out/postgresql.log" 2>&1; echo $$? >"$$out/postgresql.rc"; } & \
	  { env -u TEST_DATABASE_URL $(BIN)/pytest; echo $$? >"$$out/sqlite.rc"; } & \
	  wait -n; whoosh; wait; \
	else \
	  env -u TEST_DATABASE_URL $(BIN)/pytest; echo $$? >"$$out/sqlite.rc"; whoosh; \
	fi; \
	echo "== tests/search again with PORTAL_SEARCH_FAST_PATH=0 (Whoosh's own writer and readers)"; cat "$$out/whoosh.log"; \
	if [ -n "$$TEST_DATABASE_URL" ]; then echo "== the database tests on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  cat "$$out/postgresql.log"; fi; \
	for lane in $$lanes; do [ "$$(cat "$$out/$$lane.rc" 2>/dev/null)" = 0 ] || { status=1; echo "== $$lane: FAILED"; }; done; \
	rm -rf "$$out"; exit $$status

bench: $(VENV)/.installed-run
	$(BIN)/python bench/search_bench.py

# The load test of the real server (gunicorn) over five years of data; see the README.
load: $(VENV)/.installed-run translations
	$(BIN)/python bench/load.py

i18n: $(VENV)/.installed-run
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d portal/translations

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
