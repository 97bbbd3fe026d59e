# `make run` sets everything up and runs the pipeline on the seed articles; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Exact versions with hashes of everything `make install` brings (pip-tools' pip-compile; `make lock` refreshes it).
LOCK := requirements.lock
EXTRAS := dev dask transformer
PIP_VERSION := 26.3

.PHONY: install lock lock-upgrade browser run check-repro test lint bench clean

# The locked environment, then the project itself (editable, no dependency resolution).
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'pip==$(PIP_VERSION)'
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Bring requirements.lock in line with pyproject.toml (new or dropped dependencies), keeping every other pin;
# `make lock-upgrade` re-resolves the newest releases the ranges allow. After either: `make run`, and commit
# requirements.lock together with the dvc.lock it produces (new library releases can change artifacts).
LOCK_FLAGS = --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
	$(addprefix --extra ,$(EXTRAS)) -o $(LOCK) pyproject.toml

lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'pip==$(PIP_VERSION)' 'pip-tools>=7.4'
	$(BIN)/pip-compile $(LOCK_FLAGS)

lock-upgrade:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'pip==$(PIP_VERSION)' 'pip-tools>=7.4'
	$(BIN)/pip-compile --upgrade $(LOCK_FLAGS)

# DVC stages call `python -m pipeline`, so the project's environment goes first on PATH.
run: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro
	@echo "Report: $$(pwd)/$$($(BIN)/python -c 'from pipeline.config import load_config; print(load_config().report.output)')"

# What CI checks on its fresh clone: the pipeline reproduces the committed dvc.lock (no file changes),
# and a second `dvc repro` has nothing to do.
check-repro: run
	@changed="$$(git status --porcelain)"; if [ -n "$$changed" ]; then \
		echo "Error: a fresh run changed tracked files (artifacts do not reproduce dvc.lock):"; echo "$$changed"; \
		git --no-pager diff --stat; exit 1; fi
	@status="$$(PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc status)"; echo "$$status" | grep -q "up to date" || \
		{ echo "Error: dvc status is not clean after make run:"; echo "$$status"; exit 1; }
	@out="$$(PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro)"; echo "$$out" | grep -q "Running stage" && \
		{ echo "Error: a second dvc repro ran stages again:"; echo "$$out"; exit 1; } || \
		echo "Reproducible: dvc.lock unchanged, dvc status clean, a second dvc repro does nothing."

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
