# linewise: `make demo` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export LINEWISE_TEST_DATABASE_URL ?=

# Installs come from lock files of exact versions with their hashes (requirements/),
# so that a fresh machine gets the versions that were tested, not the newest that
# pyproject's ranges allow. `make lock` refreshes them from pyproject.toml with uv,
# keeping every pin that still fits; `make lock LOCK_FLAGS=--upgrade` moves all to
# the newest allowed (then run `make test`).
RUNTIME_LOCK := requirements/runtime.txt
TEST_LOCK := requirements/test.txt
UV_VERSION := 0.13.9
LOCK_FLAGS ?=
UV_COMPILE = $(BIN)/python -m uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet $(LOCK_FLAGS)

.PHONY: demo test test-fast lint lock venv clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml $(RUNTIME_LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(RUNTIME_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed $(TEST_LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(TEST_LOCK)
	touch $@

# The test lock is resolved under the runtime lock, so that the two agree on every
# package they share.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV_COMPILE) -o $(RUNTIME_LOCK)
	$(UV_COMPILE) --extra test -c $(RUNTIME_LOCK) -o $(TEST_LOCK)

venv: $(VENV)/.installed

# The demo's decision log, fresh on every run.
DEMO_DB := LINEWISE_DATABASE_URL=sqlite:///demo/decisions.db

# The simulated book is reviewed from its own ledger and the decisions applied to its
# lines, with a model trained on a synthetic portfolio in the book's currency.
BOOK_DB := LINEWISE_DATABASE_URL=sqlite:///demo/linewise-demo.db

demo: $(VENV)/.installed
	$(BIN)/linewise demo --accounts 1000 --months 12
	$(BIN)/linewise data synth --accounts 20000 --months 12 --seed 7 --currency CNY --horizon 1 --out demo/book/training
	$(BIN)/linewise model train --portfolio demo/book/training --kind scorecard --out demo/book/model
	$(BIN)/linewise strategy init --currency CNY --id demo_book --out demo/book/strategy.yaml
	$(BOOK_DB) $(BIN)/linewise review --ledger --as-of 2025-12-31 --model demo/book/model \
		--strategy demo/book/strategy.yaml --apply --out demo/book/decisions.parquet
	$(BIN)/linewise data uci --out demo/uci
	$(BIN)/linewise model train --portfolio demo/uci --kind scorecard --out demo/model
	rm -f demo/decisions.db demo/decisions.db-wal demo/decisions.db-shm
	$(DEMO_DB) $(BIN)/linewise db upgrade
	$(DEMO_DB) $(BIN)/linewise review --portfolio demo/uci --model demo/model --out demo/decisions.parquet
	$(DEMO_DB) $(BIN)/linewise decisions samples
	@for who in admin:admin analyst:analyst customer:customer; do \
		name=demo-$${who%%:*}; role=$${who##*:}; extra=$$([ $$role = customer ] && echo "--customer C000001"); \
		printf '%s-password\n' $$name | $(BOOK_DB) $(BIN)/linewise user add $$name --role $$role $$extra --password-stdin || exit 1; \
	done
	@echo
	@echo "The service on the demo's book (development mode, this machine only):"
	@echo "  $(BOOK_DB) $(BIN)/linewise serve --model demo/book/model --strategy demo/book/strategy.yaml"
	@echo "then open http://127.0.0.1:8000/docs (the API) and sign in as"
	@echo "  demo-customer / demo-customer-password  (customer C000001, line L000001)"
	@echo "  demo-analyst  / demo-analyst-password   (reads every line and decision)"
	@echo "  demo-admin    / demo-admin-password     (also opens lines, sets limits, activates strategies)"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# Tests run in one worker per core (pytest-xdist), at most four (each worker holds the
# UCI portfolio's frames); a test module, and every test of the whole-UCI GBM, stays on
# one worker so that its fixtures are made once (tests/conftest.py).
PYTEST := $(BIN)/pytest -n auto --maxprocesses 4 --dist loadgroup

test: lint
	$(PYTEST)

# The loop while working: every test but those marked slow (model training on the
# whole UCI portfolio, the installed command in processes of its own, Spark) and the
# PostgreSQL runs of the store's tests (make test runs them); no lint.
test-fast: $(VENV)/.installed-test
	$(PYTEST) -m "not slow and not postgres"

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
