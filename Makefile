# `make run` sets everything up and runs the pipeline on the seed articles; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask,transformer]'
	touch $(STAMP)

install: $(STAMP)

# DVC stages call `python -m pipeline`, so the project's environment goes first on PATH.
run: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro
	@echo "Report: $$(pwd)/$$($(BIN)/python -c 'from pipeline.config import load_config; print(load_config().report.output)')"

# Headless Chromium for tests/test_report_browser.py. Installed with apt-get when missing and we are root;
# when that is not possible the target only says so and that one test is skipped.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing chromium and chromium-driver for the browser test..."; \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
		  { apt-get update -q >/dev/null 2>&1 && \
		    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; }; } || \
		echo "Could not install chromium; the browser test will be skipped."; \
	else echo "chromium/chromedriver not found and apt-get is not usable here; the browser test will be skipped."; fi

test: install browser
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check pipeline tests benchmarks

bench: install
	$(BIN)/python benchmarks/chunk_ungdc.py

clean:
	rm -rf $(VENV) .pytest_cache
