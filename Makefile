# The two commands of the README:  `make demo`  and  `make test`.
# Each sets up a virtualenv from scratch when needed: torch 2.13.0 (CPU wheel) FIRST, because an
# unpinned torch in a fresh venv pulls a multi-GB CUDA build; then the project with its extras.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
PYTEST_ARGS ?=
DEMO_SPACE ?= search_spaces/digits_gated_poly.yaml
DEMO_TRIALS ?= 16
RUNS ?= runs

.PHONY: setup demo test test-slow test-all lint format bench docs-bench clean help

help:
	@echo "make demo      set up, run a real search on $(DEMO_SPACE), report and export the best"
	@echo "make test      set up and run the test suite (slow tests excluded)"
	@echo "make test-slow the slow tests (Ray cluster, PostgreSQL, long searches)"
	@echo "make lint      ruff check + ruff format --check"
	@echo "make bench     the benchmarks (quick mode)"
	@echo "make docs-bench regenerate docs/benchmarks.md and its pictures"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==$(TORCH_VERSION)
	$(BIN)/pip install -q -e ".[dev,ray]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/hadnas validate search_spaces/*.yaml
	$(BIN)/hadnas search $(DEMO_SPACE) --trials $(DEMO_TRIALS) --runs-dir $(RUNS) \
		$$([ -f $(RUNS)/digits-gated-poly/run.json ] && echo --resume)
	$(BIN)/hadnas report $(RUNS)/digits-gated-poly
	$(BIN)/hadnas export $(RUNS)/digits-gated-poly --best -o $(RUNS)/digits-gated-poly/export
	@echo "Run folder: $(RUNS)/digits-gated-poly (pareto.png, summary.json, export/)"

test: setup
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

test-slow: setup
	$(BIN)/python -m pytest -q -m "slow" $(PYTEST_ARGS) || [ $$? -eq 5 ]  # 5: none selected

test-all: setup
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check hadnas tests benchmarks examples
	$(BIN)/ruff format --check hadnas tests benchmarks examples

format: setup
	$(BIN)/ruff format hadnas tests benchmarks
	$(BIN)/ruff check --fix hadnas tests benchmarks

bench: setup
	$(BIN)/python benchmarks/bench_build.py
	for b in benchmarks/bench_*.py; do [ "$$b" = benchmarks/bench_build.py ] || $(BIN)/python $$b --quick || exit 1; done

docs-bench: setup
	$(BIN)/python benchmarks/search_quality.py --write-docs
	$(BIN)/python benchmarks/what_search_finds.py --write-docs

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
