# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PRODUCTS ?= 3000

.PHONY: run test e2e migrate

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Development server on the embedded defaults (SQLite, local-memory cache, eager
# Celery) unless DATABASE_URL / VALKEY_URL / CELERY_BROKER_URL say otherwise.
run: export DEBUG ?= 1
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_catalog --products $(DEMO_PRODUCTS) --if-empty
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev
	$(PY) -m pytest

# The browser tests alone (also part of `make test`); they need Debian's Chromium at /usr/bin/chromium.
e2e: $(VENV)/.installed-dev
	$(PY) -m pytest tests/e2e -q
