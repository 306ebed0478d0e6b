# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PRODUCTS ?= 3000
# Enough orders that nine in ten of the products a newcomer opens have an also-bought list.
DEMO_ORDERS ?= 20000

.PHONY: run serve serve-env test test-fast e2e migrate audit

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Development server on the embedded defaults (SQLite, local-memory cache, eager
# Celery) unless DATABASE_URL / VALKEY_URL / CELERY_BROKER_URL say otherwise. The
# first start seeds a demo catalog and purchase history and computes the lists;
# later starts find them and add nothing.
run: export DEBUG ?= 1
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_catalog --products $(DEMO_PRODUCTS) --if-empty
	$(PY) manage.py seed_orders --orders $(DEMO_ORDERS) --if-empty
	$(PY) manage.py compute_recommendations --if-missing
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production mode: nginx on the public HOST:PORT in front of gunicorn on loopback
# (WEB_PORT), a Celery worker and beat, and the Kafka relay (the Procfile), run
# by honcho. It needs the real services, so DATABASE_URL (and SECRET_KEY,
# ALLOWED_HOSTS...) must come from the environment, and Debian's nginx; see the
# docs/operating.md.
serve: serve-env $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile

serve-env:
	@if [ -z "$$DATABASE_URL" ]; then \
		echo "make serve: DATABASE_URL is not set. Production mode runs on the real services (PostgreSQL, and"; \
		echo "VALKEY_URL, CELERY_BROKER_URL, ELASTICSEARCH_URL, KAFKA_BOOTSTRAP_SERVERS); use 'make run' for development."; \
		exit 1; \
	fi
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
		echo "make serve: nginx is not installed. gunicorn's sync workers must not face clients directly;"; \
		echo "install Debian's package: sudo apt-get install nginx (see docs/operating.md)."; \
		exit 1; \
	fi

test: $(VENV)/.installed-dev
	$(PY) -m pytest

# Everything but the browser and system tests (servers started, services broken): for the edit-test loop.
test-fast: $(VENV)/.installed-dev
	$(PY) -m pytest -m "not e2e and not system"

# The browser tests alone (also part of `make test`); they need Debian's Chromium at /usr/bin/chromium.
e2e: $(VENV)/.installed-dev
	$(PY) -m pytest tests/e2e -q

# The README's screenshots (docs/screenshots/{home,search,product,cart}.png), taken in Chromium on the demo store
# `make run` seeds (DEMO_PRODUCTS, DEMO_ORDERS): tests/e2e/test_readme_screenshots.py, then a copy.
.PHONY: screenshots
screenshots: $(VENV)/.installed-dev
	README_SCREENSHOTS=1 DEMO_PRODUCTS=$(DEMO_PRODUCTS) DEMO_ORDERS=$(DEMO_ORDERS) $(PY) -m pytest tests/e2e/test_readme_screenshots.py -q
	for name in home search product cart; do cp test-artifacts/screenshots/readme-$$name.png docs/screenshots/$$name.png; done

# Known vulnerabilities in requirements.txt (network: the PyPI JSON API, or
# AUDIT_SERVICE=osv for api.osv.dev). --strict: a package it could not look up fails too.
AUDIT_SERVICE ?= pypi
audit: $(VENV)/.installed-dev
	$(VENV)/bin/pip-audit -r requirements.txt --strict --progress-spinner off --vulnerability-service $(AUDIT_SERVICE)
