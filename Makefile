# iochub — the two commands a new user needs are `make demo` and `make test`.
# Every target that needs the environments depends on `setup`, which installs only what is
# missing (stamp files record what is done) and never downloads anything but packages.

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV ?= $(shell command -v uv || echo .tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
export GX_ANALYTICS_ENABLED := False
export DO_NOT_TRACK := 1

VENV := .venv
SUPERSET_VENV := .venv-superset
IOC := $(VENV)/bin/ioc

.PHONY: help setup demo stop test test-fast lint format bench docs doctor clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# uv is missing from PATH: install it from PyPI into a small tool environment of the project.
.tools/bin/uv:
	@echo "› installing uv (package manager) from PyPI into .tools/"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	@echo "› pipeline environment ($(VENV)): Airflow, dbt, DuckDB, Great Expectations"
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

$(SUPERSET_VENV)/.installed: superset_assets/requirements.lock.txt | $(UV)
	@echo "› Superset environment ($(SUPERSET_VENV))"
	@test -x $(SUPERSET_VENV)/bin/python || $(UV) venv --python $(PYTHON) $(SUPERSET_VENV)
	VIRTUAL_ENV=$(SUPERSET_VENV) $(UV) pip sync --compile-bytecode superset_assets/requirements.lock.txt
	@touch $@

# Browser libraries for pages iochub writes (the gate's Data Docs), from the npm registry: the
# pages then render with no outside request. Not fatal: without them the pages lose styling.
.tools/web-assets/.installed: iochub/web_assets.py | $(VENV)/.installed
	@echo "› browser libraries for offline pages (.tools/web-assets, from the npm registry)"
	@$(VENV)/bin/python -m iochub.web_assets && touch $@ || echo "  warning: not fetched; Data Docs will need the internet for styling"

setup: $(VENV)/.installed $(SUPERSET_VENV)/.installed .tools/web-assets/.installed ## Install both environments (idempotent)

demo: setup ## Run the pipeline through Airflow and serve the dashboards (Superset :8088, Airflow :8080)
	$(IOC) demo up

stop: ## Stop the services `make demo` started
	@test -x $(IOC) && $(IOC) demo down || echo "nothing to stop (no environment)"

doctor: setup ## Check versions, services, ports and disk
	$(IOC) doctor

lint: setup ## ruff, mypy and sqlfluff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	cd dbt_project && ../$(VENV)/bin/sqlfluff lint models tests macros

format: setup ## Apply ruff and sqlfluff fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	cd dbt_project && ../$(VENV)/bin/sqlfluff fix models tests macros

test: setup lint ## Lint, then every test (unit, integration with Airflow, e2e in Chromium)
	$(VENV)/bin/pytest

test-fast: setup ## Unit tests only
	$(VENV)/bin/pytest tests/unit

docs: setup ## Regenerate docs/kpis.md and the dbt docs site (dbt_project/target)
	$(IOC) docs kpis
	$(IOC) dbt sources
	$(IOC) docs dbt

bench: setup ## Benchmarks (ratios side by side in one run)
	$(VENV)/bin/python -m bench

clean: stop ## Remove generated data (IOC_HOME=./data) but keep the environments
	rm -rf data dbt_project/target dbt_project/logs
