# `make run` sets everything up and runs the pipeline on the seed articles; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# DVC stages call `python -m pipeline`, so the project's environment goes first on PATH.
run: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro
	@echo "Report: $$(pwd)/$$($(BIN)/python -c 'from pipeline.config import load_config; print(load_config().report.output)')"

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check pipeline tests benchmarks

bench: install
	$(BIN)/python benchmarks/chunk_ungdc.py

clean:
	rm -rf $(VENV) .pytest_cache
