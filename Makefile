# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
VENV   ?= .venv
PYTHON ?= $(shell command -v python3.11 || command -v python3)
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: demo test lint typecheck pytest lock clean bench-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Reinstall whenever the dependency ranges or the lock change.
$(VENV)/.runtime: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install -q -c constraints.txt -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $@

demo: $(VENV)/.runtime
	$(BIN)/amphub demo

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.dev
	$(BIN)/mypy

pytest: $(VENV)/.dev
	$(BIN)/pytest

test: lint typecheck pytest

# The benchmarks' extra dependencies (acnportal, matplotlib); `python bench/NAME.py` after.
bench-deps: $(VENV)/.dev
	$(PIP) install -q -c constraints.txt -e '.[dev,bench]'

# Refresh constraints.txt (the lock) from a clean environment resolved from pyproject's ranges.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install -q --upgrade pip
	.venv-lock/bin/python -m pip install -q '.[dev,bench]'
	.venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^amphub' > constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
