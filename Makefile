# 入河排污口监督管理系统 — the two commands: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.lock 2>/dev/null | cut -c1-12)
DEBIAN_RUNTIME := libharfbuzz-subset0 fonts-noto-cjk fonts-arphic-ukai gettext
DEBIAN_TEST := $(DEBIAN_RUNTIME) chromium poppler-utils
PG_URL ?= postgres://postgres@127.0.0.1:5432/outfalls
REDIS_URL ?= redis://127.0.0.1:6379/14
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-pg test-integration lint deps deps-test messages clean-var

$(STAMP): requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	rm -f $(VENV)/.installed-* && touch $@

deps: $(STAMP)
	@scripts/ensure-debian-packages $(DEBIAN_RUNTIME)

deps-test: $(STAMP)
	@scripts/ensure-debian-packages $(DEBIAN_TEST)

messages: deps
	@$(PY) manage.py compilemessages --ignore=.venv -v 0

run: deps messages
	@mkdir -p var/broker/out var/broker/processed var/media
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_reference
	$(PY) manage.py load_demo
	@scripts/run-embedded $(HOST) $(PORT)

test: deps-test messages
	$(PY) -m pytest -m "not integration" $(PYTEST_ARGS)

test-pg: deps-test messages
	@scripts/ensure-services
	DATABASE_URL=$(PG_URL) $(PY) -m pytest -m "not integration" $(PYTEST_ARGS)

test-integration: deps-test messages
	@scripts/ensure-services
	DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) CELERY_RESULT_BACKEND=$(REDIS_URL) \
	  CELERY_TASK_ALWAYS_EAGER=false $(PY) -m pytest -m integration tests/integration $(PYTEST_ARGS)

lint: deps
	@mkdir -p var
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run -v 1
	$(PY) manage.py check --fail-level WARNING

clean-var:
	rm -rf var/
