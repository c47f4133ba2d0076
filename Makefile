# Everything starts from nothing: the first target that needs it creates .venv and installs the pinned set.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run lint test test-all bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/station run --demo

# ruff check (lint rules), ruff format --check (the layout: the tree is formatted) and mypy; all configured in
# pyproject.toml. `ruff format .` lays a change out before it is committed.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

test-all: lint
	$(BIN)/python -m pytest -q --runslow

bench: $(STAMP)
	$(BIN)/python bench/import.py
	$(BIN)/python bench/printer.py
	$(BIN)/python bench/print_queue.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/ledger.py

clean:
	rm -rf $(VENV) var build *.egg-info
