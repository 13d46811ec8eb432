# The two commands of the README's quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO ?= demo
DEMO_HOUSEHOLDS ?= 3000
# From one month into the next: the 1st of April brings March's assessment, and cases
# confirmed in early March fall due (some overdue) in the first days of April.
DEMO_START ?= 2026-03-01
DEMO_END ?= 2026-04-03
DEMO_SEED ?= 7

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-fast check format lint typecheck clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/.installed ## create .venv and install the project with its test tools

demo: setup ## generate a demo district and run its every date, its grid returning workbooks
	rm -rf $(DEMO)
	$(BIN)/python -m pipeline demo --inbox $(DEMO)/inbox --home $(DEMO)/home \
		--households $(DEMO_HOUSEHOLDS) --start $(DEMO_START) --end $(DEMO_END) --seed $(DEMO_SEED)
	$(BIN)/python -m fpwarn_demo run --inbox $(DEMO)/inbox --home $(DEMO)/home \
		--start $(DEMO_START) --end $(DEMO_END) --seed $(DEMO_SEED)
	@echo "outbox: $(DEMO)/home/outbox/"

test: setup ## run the whole test suite (services: PostgreSQL and MariaDB on 127.0.0.1)
	$(BIN)/python -m pytest

check: setup ## format check, lint and type check (Python and SQL)
	$(BIN)/ruff format --check pipeline fpwarn_demo dags tests
	$(BIN)/ruff check pipeline fpwarn_demo dags tests
	$(BIN)/mypy
	$(BIN)/sqlfluff lint sql --processes 2

format: setup ## format the code
	$(BIN)/ruff format pipeline fpwarn_demo dags tests
	$(BIN)/ruff check --fix pipeline fpwarn_demo dags tests
	$(BIN)/sqlfluff fix sql --processes 2

clean: ## remove the demo and caches
	rm -rf $(DEMO) .pytest_cache .ruff_cache .mypy_cache
