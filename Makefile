# mer: reproducible companion to "Music Emotion Recognition Model Integrating Deep Learning".
#
#   make setup   create .venv and install the pinned dependencies (a no-op when nothing changed)
#   make test    set up, then lint, format-check and run the whole test-suite with doctests
#   make bench   run the benchmarks (writes benchmarks/results/*.json)
#
# Targets are real files where possible: .venv/.installed is rebuilt only when
# pyproject.toml changes. `make clean` removes build by-products only, never
# feature caches or results.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Installed without dependencies: tinysoundfont declares pyaudio, which does not
# build without PortAudio headers and is not needed to render MIDI to arrays.
NODEPS_PINS := tinysoundfont==0.3.7
PYTEST_ARGS ?=

.PHONY: setup test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps $(NODEPS_PINS)
	@touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_features.py

clean:
	rm -rf build .pytest_cache .ruff_cache book/_build
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
