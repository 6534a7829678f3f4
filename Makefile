# rehber — `make run` serves on 127.0.0.1:8080 (SQLite), `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8080
DATABASE ?= sqlite:///./rehber.db
LINT_PATHS := src tests $(wildcard bench)

.PHONY: run test check lint typecheck format bench clean venv

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("rehber needs Python 3.11+ (set PYTHON=...)") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/rehber db upgrade --database '$(DATABASE)'
	$(BIN)/rehber demo --database '$(DATABASE)' --host $(HOST) --port $(PORT)
	$(BIN)/rehber serve --database '$(DATABASE)' --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck

test: check
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

format: $(STAMP)
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

# Floors and rehber measured in one run (~8 minutes); writes bench/RESULTS.md. See bench/README.md.
# e.g. make bench BENCH_ARGS="--quick --only reads,writes"
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
