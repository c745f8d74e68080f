# aftersales — every target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python
export UV_PROJECT_ENVIRONMENT := .venv
export PYTHONDONTWRITEBYTECODE := 1
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_TICKETS ?= 400
# `make run` serves fake eBay / Shopify / Amazon / 17TRACK / Shopee / TikTok Shop / AliExpress / Wish on 127.0.0.1:DEMO_FAKES_PORT..+7 for the
# demo stores (aftersales/demo/fakes.py); DEMO_FAKES=0 turns them off.
DEMO_FAKES ?= 1
DEMO_FAKES_PORT ?= 8701
PG_URL ?= postgres://postgres@127.0.0.1:5432
PYTEST_ARGS ?=

help:
	@echo "make run        install, migrate, load demo data, start web + worker on http://$(HOST):$(PORT)"
	@echo "make test       install (system packages too, in CI) and run the whole suite on SQLite and PostgreSQL"
	@echo "make worker     start the Huey worker alone"
	@echo "make lint | fmt | typecheck | bench | messages"

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

install: .venv/.synced

system-deps:
	@bash scripts/install-system-deps.sh

var/secret_key:
	@mkdir -p var
	@$(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	@chmod 600 $@

prepare: install var/secret_key
	$(PY) -m aftersales.manage migrate --noinput
	$(PY) -m aftersales.manage collectstatic --noinput --verbosity 0
	$(PY) -m aftersales.manage demo --tickets $(DEMO_TICKETS) --if-empty --translate-recent 60 \
		$(if $(filter 1,$(DEMO_FAKES)),--fakes --fakes-port-base $(DEMO_FAKES_PORT),--no-fakes)
	@# The triage model (docs/adr/0017-triage-models.md), built once per corpus version (a no-op after): else the
	@# worker trains it when it starts, and answers nothing for the first minutes.
	@echo "triage model: built once per corpus version (about a minute of one core the first time)"
	@$(PY) -m aftersales.manage triage_train >/dev/null

run: prepare
	@DEMO_FAKES=$(DEMO_FAKES) DEMO_FAKES_PORT=$(DEMO_FAKES_PORT) bash scripts/run.sh $(HOST) $(PORT)

worker: install var/secret_key
	$(PY) -m aftersales.manage run_huey

test: install system-deps
	@bash scripts/test.sh $(PYTEST_ARGS)

lint: install
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen ruff format --check src tests bench
	$(UV) run --frozen lint-imports

fmt: install
	$(UV) run --frozen ruff format src tests bench
	$(UV) run --frozen ruff check --fix src tests bench

typecheck: install
	$(UV) run --frozen mypy src/aftersales

messages: install
	cd src/aftersales && ../../$(PY) -m django makemessages -l zh_Hans --settings=aftersales.settings.test --ignore "testing/*" --ignore "*/tests/*"
	cd src/aftersales && ../../$(PY) -m django compilemessages --settings=aftersales.settings.test

bench: install
	$(PY) bench/language.py
	$(PY) bench/ingest.py
	$(PY) bench/ingest.py --pg $${PG_URL:-postgres://postgres@127.0.0.1:5432}
	$(PY) bench/inbox.py $(BENCH_ARGS)  # 1M tickets on PostgreSQL by default: ~30 min on 2 cores
	$(PY) bench/peer.py  # against django-helpdesk 2.6.1 (pip-installed into a temporary virtualenv)

.PHONY: help install system-deps prepare run worker test lint fmt typecheck messages bench
