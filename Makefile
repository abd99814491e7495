# The two commands of the README: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test bench lint services chromium node clean prod

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

demo: $(VENV)/.runtime-installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo $(SEED_ARGS)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The production shape on one machine (gunicorn + Celery worker + beat, PostgreSQL, Redis,
# DEBUG off). Needs the environment described in README "Deploying".
prod: $(VENV)/.runtime-installed
	PYTHON=$(BIN)/python scripts/run-production.sh

test: $(VENV)/.dev-installed services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# What the tests need that we can bring up here. PostgreSQL and Redis are the machine's;
# Chromium comes from Debian (as root only), s3rver from package.json.
services: chromium node

chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed; browser tests will skip (or fail with ACCESSGATE_REQUIRE_SERVICES=1)"; \
	  else echo "chromium is missing and we are not root; browser tests will skip"; fi; \
	fi

node:
	@if [ -f package.json ] && command -v npm >/dev/null 2>&1; then \
	  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund --silent; fi; \
	fi

bench: $(VENV)/.dev-installed services
	@if ! command -v wrk >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) || true; fi
	$(BIN)/python bench/run.py

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules var staticfiles
