# The two commands of the README: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Everything the demo prints and every link it e-mails uses this address.
SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: demo test bench lint services chromium nginx node gettext messages clean prod

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

# DEBUG is off unless set; the demo is the development shape (plain HTTP, dev identity provider).
DEMO_ENV := ACCESSGATE_DEBUG=1 ACCESSGATE_SITE_URL=$(SITE_URL)

demo: $(VENV)/.runtime-installed
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo $(SEED_ARGS)
	$(DEMO_ENV) $(BIN)/python manage.py run_schedule --once
	@# The beat schedule runs beside the server (no broker in the demo) and stops with it.
	$(DEMO_ENV) sh -c '$(BIN)/python manage.py run_schedule & schedule=$$!; \
	  trap "kill $$schedule 2>/dev/null" EXIT INT TERM; $(BIN)/python manage.py runserver $(HOST):$(PORT)'

# The production shape on one machine (gunicorn + Celery worker + beat, PostgreSQL, Redis,
# DEBUG off). Needs the environment described in docs/deploying.md.
prod: $(VENV)/.runtime-installed
	PYTHON=$(BIN)/python scripts/run-production.sh

test: $(VENV)/.dev-installed services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# What the tests need that we can bring up here. PostgreSQL and Redis are the machine's;
# Chromium, nginx and GNU gettext come from Debian (as root only), s3rver from package.json.
services: chromium nginx node gettext

chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed; browser tests will skip (or fail with ACCESSGATE_REQUIRE_SERVICES=1)"; \
	  else echo "chromium is missing and we are not root; browser tests will skip"; fi; \
	fi

nginx:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null) \
	      || echo "nginx-light could not be installed; the offload test will skip (or fail with ACCESSGATE_REQUIRE_SERVICES=1)"; \
	  else echo "nginx is missing and we are not root; the offload test will skip"; fi; \
	fi

gettext:
	@if ! command -v xgettext >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null) \
	      || echo "gettext could not be installed; the makemessages test will skip (or fail with ACCESSGATE_REQUIRE_SERVICES=1)"; \
	  else echo "gettext is missing and we are not root; the makemessages test will skip"; fi; \
	fi

# The source catalogue for translators (docs/translating.md): every marked string of the
# templates and the code, without line numbers so that moving code does not churn it.
messages: $(VENV)/.runtime-installed gettext
	$(BIN)/python manage.py makemessages -l en --no-obsolete --add-location file \
	  --ignore 'node_modules/*' --ignore 'static/*' --ignore 'staticfiles/*' --ignore 'var/*' \
	  --ignore 'tests/*' --ignore 'bench/*' --ignore 'scripts/*'

node:
	@if [ -f package.json ] && command -v npm >/dev/null 2>&1; then \
	  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund --silent; fi; \
	fi

bench: $(VENV)/.dev-installed services
	@if ! command -v wrk >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) || true; fi
	$(BIN)/python bench/run.py

# mypy loads the settings (django-stubs' plugin): the development shape needs no secret key.
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	ACCESSGATE_DEBUG=1 $(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules var staticfiles
