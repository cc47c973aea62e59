# citydw — run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
CITYDW := $(VENV)/bin/citydw
INSTALLED := $(VENV)/.installed
BI_INSTALLED := .venv-bi/.installed
DEMO_FROM ?= 2022-01
DEMO_TO ?= 2022-12

# Nothing citydw runs sends usage data anywhere.
export GX_ANALYTICS_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export AIRFLOW__USAGE_DATA_COLLECTION__ENABLED := False
export SCARF_ANALYTICS := false

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

install: $(INSTALLED) ## Create .venv/ with the pinned dependencies (requirements/constraints.txt)

$(INSTALLED): requirements/constraints.txt ingestion/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@# -qq: errors only. A machine's pip configuration can warn once per package (an index
	@# folder that is missing, say), hundreds of lines that would bury what make demo says.
	$(VENV)/bin/pip install -qq --upgrade pip
	$(VENV)/bin/pip install -qq -c requirements/constraints.txt -e 'ingestion[dev]'
	touch $@

demo: install browser ## The sample city's year 2022 through the real DAGs; prints where the marts and reports are
	$(CITYDW) warehouse up
	$(CITYDW) demo generate --from $(DEMO_FROM) --to $(DEMO_TO)
	$(CITYDW) demo run --from $(DEMO_FROM) --to $(DEMO_TO)
	$(CITYDW) demo summary

# Debian's packages behind the browser tests, the brief's PDF (made by make demo's report runs) and the
# dashboards' screenshots:
# Playwright cannot download its own browsers here, so it drives the system chromium.
BROWSER_PACKAGES := chromium fonts-noto-cjk poppler-utils
BROWSER_READY := command -v chromium >/dev/null && command -v pdftotext >/dev/null && fc-list 2>/dev/null | grep -q 'Noto Sans CJK'

browser: ## Debian's chromium, CJK fonts and pdftotext (apt-get, as root) for the browser tests and PDFs
	@if $(BROWSER_READY); then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "citydw needs Debian's $(BROWSER_PACKAGES) for its browser tests and PDFs; as root: apt-get install $(BROWSER_PACKAGES)" >&2; exit 1; \
	fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null; }; \
	$(BROWSER_READY) || { echo "installing $(BROWSER_PACKAGES) did not give chromium, pdftotext and Noto Sans CJK" >&2; exit 1; }

# Superset lives in its own environment: its Flask and SQLAlchemy 1.4 cannot share .venv/ with Airflow.
bi-install: $(BI_INSTALLED) ## Superset 6.1 into .venv-bi/, pinned by requirements/bi-constraints.txt

$(BI_INSTALLED): requirements/bi-constraints.txt $(INSTALLED)
	$(CITYDW) bi install

bi: install bi-install ## Superset on 127.0.0.1 (CITYDW_BI_PORT, default 8088) as citydw_bi with the dashboards of bi/
	$(CITYDW) bi up

bi-down: install ## Stop the Superset make bi started
	$(CITYDW) bi down

test: install browser bi-install ## The whole test suite against a real PostgreSQL (started by the tests)
	$(VENV)/bin/pytest -n 2 --dist loadgroup

bench: install ## Benchmarks (over an hour, ~16 GB free disk; docs/benchmarks.md): bench/results/latest.json and the table in docs/benchmarks.md
	$(VENV)/bin/python -m bench run

bench-quick: install ## The benchmark harness on small sizes (< 5 min): bench/results/quick.json
	$(VENV)/bin/python -m bench run --quick

lint: install ## ruff (lint + format check) and mypy on the package
	$(VENV)/bin/ruff check ingestion dags tests
	$(VENV)/bin/ruff format --check ingestion dags tests
	$(VENV)/bin/mypy ingestion/citydw

cluster: install ## Airflow on Celery on localhost (Redis, scheduler, 2 workers) over the warehouse; Ctrl-C stops it
	$(CITYDW) cluster up

warehouse-up: install ## Start the embedded warehouse
	$(CITYDW) warehouse up

warehouse-down: install ## Stop the embedded warehouse (data kept under .citydw/)
	$(CITYDW) warehouse down

lock: ## Re-pin every dependency after changing ingestion/pyproject.toml
	rm -rf /tmp/citydw-lock && $(PYTHON) -m venv /tmp/citydw-lock
	/tmp/citydw-lock/bin/pip install --quiet --upgrade pip
	/tmp/citydw-lock/bin/pip install --quiet -e 'ingestion[dev]'
	/tmp/citydw-lock/bin/pip freeze --exclude-editable > requirements/constraints.txt

clean: ## Remove generated data (.citydw/) after stopping Superset and the warehouse; keeps .venv/ and .venv-bi/
	-$(CITYDW) bi down
	-$(CITYDW) warehouse down
	rm -rf .citydw dbt_project/target dbt_project/logs

.PHONY: help install browser bi-install bi bi-down demo test bench bench-quick lint cluster warehouse-up warehouse-down lock clean
