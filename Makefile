# cs_platform: `make run` serves the demo, `make test` runs the whole suite.
# Both start from nothing but python3: they create .venv and install into it.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_DEBUG ?= 1
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run test browser lint worker beat bench probes score clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## Create .venv and install everything

run: install ## Migrate, load the demo shop, score it and serve it on http://127.0.0.1:8000
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py load_demo
	$(PY) manage.py score || echo "Scoring did not finish; the app serves the previous scores."
	@# Also four weeks ago (the data as it stood then), so the dashboard has a trend to show.
	$(PY) manage.py score --as-of $$($(PY) -c "import datetime as d; print(d.date.today() - d.timedelta(days=28))") \
	  || echo "The run for four weeks ago did not finish: the dashboard shows no trend yet."
	@echo ""
	@echo "  cs_platform is starting on http://$(HOST):$(PORT)/"
	@echo "  Sign in as: owner / demo-owner-2026"
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install browser ## Lint, type-check the scoring modules, run the whole suite (SQLite, tasks in-process)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q

browser: ## Debian's chromium for the browser tests (installed when missing and possible)
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null); } || \
	  echo "chromium is not installed and cannot be installed here: browser tests will be skipped (CI fails them)"

lint: install ## ruff check, format check, mypy on the pure scoring modules
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

worker: install ## A Celery worker (needs REDIS_URL)
	$(VENV)/bin/celery -A cs_platform worker --loglevel=INFO

beat: install ## Celery beat, the nightly schedule (needs REDIS_URL)
	$(VENV)/bin/celery -A cs_platform beat --loglevel=INFO

bench: install ## Import and scoring benchmarks, 100k customers / 1M orders (set DATABASE_URL for Postgres)
	$(PY) -m customers.bench --orders 1000000 --customers 100000
	$(PY) -m metrics.bench --customers 100000 --orders 1000000

probes: install browser ## Fault and bad-input probes, with figures (kills, Redis down, fuzzing, logs, memory, live stack; needs Postgres + Redis)
	@command -v caddy >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy >/dev/null); } || \
	  { echo "caddy is not installed and cannot be installed here"; exit 1; }
	bash scripts/hardening_probes.sh
	$(PY) scripts/probes.py

score: install ## Rescore every customer now
	$(PY) manage.py score

clean: ## Remove the virtualenv, caches and the local SQLite database
	rm -rf $(VENV) .pytest_cache .ruff_cache db.sqlite3 db.sqlite3-* media staticfiles
