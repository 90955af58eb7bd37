# mer: reproducible companion to "Music Emotion Recognition Model Integrating Deep Learning".
#
#   make reproduce     set up, generate the data, run every evaluation, execute the notebooks
#                      with papermill and build the book (PROFILE=quick by default)
#   make test          set up, then lint, format-check and run the whole test-suite
#   make lab           JupyterLab on the notebooks, with the package installed
#   make bench         the benchmarks (benchmarks/results/*.json)
#   make setup         create .venv with the pinned dependencies (a no-op when nothing changed)
#
# Variables:
#   PROFILE=tiny|quick|paper   sizes of data, training and folds (see mer_core/pipeline.py)
#   DATA_4Q=DIR                also evaluate on a real 4Q folder (e.g. ../shared/data/4q-dev)
#   PARAMS=FILE.yml            extra notebook parameters (YAML), passed to every notebook
#   N_JOBS=2                   parallel workers for data generation and features
#   SCHEDULER=tcp://HOST:8786  run data generation, features and every fit on that Dask
#                              cluster (README: "Running on a cluster"); default: here
#   BUILD=build/$(PROFILE)     where data, results, executed notebooks and the book go
#
# Targets are real files: a second `make reproduce` with nothing changed only checks
# time stamps; changing one notebook re-executes that notebook and rebuilds the book;
# an interrupted run resumes (data generation and cross-validation folds resume, every
# output is written atomically). A notebook error stops the run and no book is built.
# `make clean` removes by-products only, never generated data, results or caches.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Installed without dependencies: tinysoundfont declares pyaudio, which does not
# build without PortAudio headers and is not needed to render MIDI to arrays.
NODEPS_PINS := tinysoundfont==0.3.7
MATHJAX_VERSION := 3.2.2
PYTEST_ARGS ?=
PIP := $(BIN)/python -m pip --disable-pip-version-check

PROFILE ?= quick
BUILD ?= build/$(PROFILE)
N_JOBS ?= 2
DATA_4Q ?=
PARAMS ?=
SCHEDULER ?=
SCHED_ARG := $(if $(strip $(SCHEDULER)),--scheduler $(strip $(SCHEDULER)))
SCHEMES := ema emotion 4q

NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
BOOK := $(BUILD)/book
EXECUTED := $(patsubst notebooks/%.ipynb,$(BOOK)/chapters/%.ipynb,$(NOTEBOOKS))
BOOK_SOURCES := $(filter-out book/README.md,$(wildcard book/*.md book/*.yml book/*.bib book/*.svg book/_ext/*.py))
STAGED := $(patsubst book/%,$(BOOK)/%,$(BOOK_SOURCES))
MATHJAX := .cache/mathjax-$(MATHJAX_VERSION)
RESULTS := $(foreach s,$(SCHEMES),$(BUILD)/results/$(s)/results.json)
ifneq ($(strip $(DATA_4Q)),)
RESULTS += $(BUILD)/results/4q-real/results.json
endif
BENCH := benchmarks/results/bench_features.json benchmarks/results/bench_training.json \
	benchmarks/results/bench_cluster.json
# WITH_BENCH=0 builds the book without running the benchmarks (the performance
# chapter then says how to run them).
WITH_BENCH ?= 1

.PHONY: setup test lint bench reproduce results book lab clean FORCE
.DELETE_ON_ERROR:
.SECONDARY:

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -e '.[dev]' 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(PIP) install --quiet --no-deps $(NODEPS_PINS) 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	@touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint $(MATHJAX)/es5/tex-mml-chtml.js
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

# ------------------------------------------------------------------ reproduce

reproduce: $(BOOK)/_build/html/index.html
	@echo "book: $(BOOK)/_build/html/index.html"

results: $(RESULTS)

# The generated corpora and the cross-validation runs (resumable, idempotent).
$(BUILD)/data/%/manifest.csv: | $(STAMP)
	$(BIN)/mer pipeline data --build $(BUILD) --profile $(PROFILE) --scheme $* --n-jobs $(N_JOBS) $(SCHED_ARG)

# (A resumed run leaves an unchanged results.json alone; `touch` marks it current.)
$(BUILD)/results/%/results.json: $(BUILD)/data/%/manifest.csv
	$(BIN)/mer pipeline results --build $(BUILD) --profile $(PROFILE) --scheme $* --n-jobs $(N_JOBS) $(SCHED_ARG)
	@touch $@

$(BUILD)/results/4q-real/results.json: | $(STAMP)
	$(BIN)/mer pipeline results --build $(BUILD) --profile $(PROFILE) --scheme 4q \
		--name 4q-real --data "$(DATA_4Q)" --n-jobs $(N_JOBS) $(SCHED_ARG)
	@touch $@

# Notebook parameters: written as make reads this file, and only when their content
# changes, so a build with nothing changed is up to date (`make -q` exits 0).
define PARAMS_TEXT
profile: $(PROFILE)
build_dir: $(abspath $(BUILD))
n_jobs: $(N_JOBS)
data_4q: '$(if $(DATA_4Q),$(abspath $(DATA_4Q)))'
bench_dir: '$(if $(filter 1,$(WITH_BENCH)),$(abspath benchmarks/results))'
endef
define newline


endef
ifneq ($(PARAMS),)
PARAMS_TEXT := $(PARAMS_TEXT)$(newline)$(file < $(PARAMS))
endif
ifneq ($(filter reproduce book results $(BUILD)/%,$(MAKECMDGOALS)),)
ifneq ($(PARAMS_TEXT),$(file < $(BUILD)/params.yml))
$(shell mkdir -p $(BUILD))
$(file > $(BUILD)/params.yml,$(PARAMS_TEXT))
endif
endif
$(BUILD)/params.yml:
	@test -f $@ || { echo "$@ is written when make reads the Makefile" >&2; exit 1; }

# One executed notebook per source notebook (papermill; the book never executes).
$(BOOK)/chapters/%.ipynb: notebooks/%.ipynb $(BUILD)/params.yml $(RESULTS)
	@mkdir -p $(@D)
	cd notebooks && ../$(BIN)/papermill --log-output --kernel python3 \
		-f $(abspath $(BUILD)/params.yml) $*.ipynb $(abspath $@).tmp.ipynb \
		|| { echo "notebook $< failed: see the cell above; no book is built" >&2; \
		     rm -f $(abspath $@).tmp.ipynb; exit 1; }
	mv $@.tmp.ipynb $@

ifeq ($(WITH_BENCH),1)
$(BOOK)/chapters/07_performance.ipynb: $(BENCH)
endif

$(BOOK)/%: book/%
	@mkdir -p $(@D)
	cp $< $@

# MathJax 3 from the npm registry, served by the book itself (no CDN).
$(MATHJAX)/es5/tex-mml-chtml.js:
	@mkdir -p $(MATHJAX)
	cd $(MATHJAX) && npm pack --silent mathjax@$(MATHJAX_VERSION) > /dev/null \
		&& tar xzf mathjax-$(MATHJAX_VERSION).tgz --strip-components=1 package/es5 \
		&& rm mathjax-$(MATHJAX_VERSION).tgz
	@touch $@

$(BOOK)/_mathjax/mathjax/tex-mml-chtml.js: $(MATHJAX)/es5/tex-mml-chtml.js
	@rm -rf $(BOOK)/_mathjax && mkdir -p $(BOOK)/_mathjax/mathjax/output/chtml
	cp $< $@
	cp -r $(MATHJAX)/es5/output/chtml/fonts $(BOOK)/_mathjax/mathjax/output/chtml/

book: $(BOOK)/_build/html/index.html

$(BOOK)/_build/html/index.html: $(EXECUTED) $(STAGED) $(BOOK)/_mathjax/mathjax/tex-mml-chtml.js
	$(BIN)/jupyter-book build $(BOOK) --warningiserror --nitpick --keep-going --quiet
	@touch $@

# ------------------------------------------------------------------ benchmarks

BENCH_FEATURES_ARGS ?= --limit 120
BENCH_TRAINING_ARGS ?=
BENCH_CLUSTER_ARGS ?=

# `make bench` always measures anew; `make reproduce` measures only what is missing
# (the recorded runs in benchmarks/results/ carry their machine, load and versions).
bench: | $(STAMP)
	$(BIN)/python benchmarks/bench_features.py $(BENCH_FEATURES_ARGS)
	$(BIN)/python benchmarks/bench_training.py $(BENCH_TRAINING_ARGS)
	$(BIN)/python benchmarks/bench_cluster.py $(BENCH_CLUSTER_ARGS)

benchmarks/results/bench_features.json: | $(STAMP)
	$(BIN)/python benchmarks/bench_features.py $(BENCH_FEATURES_ARGS) --out $@

benchmarks/results/bench_training.json: | $(STAMP)
	$(BIN)/python benchmarks/bench_training.py $(BENCH_TRAINING_ARGS) --out $@

benchmarks/results/bench_cluster.json: | $(STAMP)
	$(BIN)/python benchmarks/bench_cluster.py $(BENCH_CLUSTER_ARGS) --out $@

clean:
	rm -rf .pytest_cache .ruff_cache build/*/book/_build
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +

FORCE:
