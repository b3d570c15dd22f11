# linewise: `make demo` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export LINEWISE_TEST_DATABASE_URL ?=

.PHONY: demo test lint venv clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# The demo's decision log, fresh on every run.
DEMO_DB := LINEWISE_DATABASE_URL=sqlite:///demo/decisions.db

demo: $(VENV)/.installed
	$(BIN)/linewise demo --accounts 1000 --months 12
	$(BIN)/linewise data uci --out demo/uci
	$(BIN)/linewise model train --portfolio demo/uci --kind scorecard --out demo/model
	rm -f demo/decisions.db demo/decisions.db-wal demo/decisions.db-shm
	$(DEMO_DB) $(BIN)/linewise db upgrade
	$(DEMO_DB) $(BIN)/linewise review --portfolio demo/uci --model demo/model --out demo/decisions.parquet
	$(DEMO_DB) $(BIN)/linewise decisions samples

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
