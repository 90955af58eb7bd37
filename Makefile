# mer: reproducible companion to "Music Emotion Recognition Model Integrating Deep Learning".
#
#   make reproduce     set up, generate the data, run every evaluation, execute the notebooks
#                      with papermill and build the book (PROFILE=quick by default)
#   make test          set up, then lint, format-check and run the whole test-suite
#   make lab           JupyterLab on the notebooks, with the package installed
#   make bench         the benchmarks (benchmarks/results/*.json; `make bench-paper`: the
#                      paper profile timed on the cluster path, about 2.5 hours)
#   make setup         create .venv with the pinned dependencies (a no-op when nothing changed)
#
# Variables:
#   PROFILE=tiny|quick|paper   sizes of data, training and folds (see mer_core/pipeline.py)
#   DATA_4Q=DIR                also evaluate on a real 4Q folder (e.g. ../shared/data/4q-dev)
#   PARAMS=FILE.yml            parameters (YAML; every key in params.example.yml):
#                              each reaches the steps that read it (seed: data, results
#                              and notebooks); an unknown key is an error
#   make record-4q DATA_4Q=DIR re-record the real 4Q run shown by the default book
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
BOOK_SOURCES := $(filter-out book/README.md,$(wildcard book/*.md book/*.yml book/*.bib book/*.svg book/_ext/*.py book/_css/*.css))
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

.PHONY: setup test lint bench bench-paper reproduce results book lab clean record-4q FORCE
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

# JupyterLab saves notebooks without outputs (etc/jupyter_server_config.json installs
# mer_core.book.strip_outputs as its pre-save hook), so the tracked notebooks stay clean.
lab: $(STAMP)
	JUPYTER_CONFIG_PATH=$(CURDIR)/etc $(BIN)/jupyter lab notebooks

# ------------------------------------------------------------------ reproduce

reproduce: $(BOOK)/_build/html/index.html
	@echo "book: $(BOOK)/_build/html/index.html"

results: $(RESULTS)

# Parameters: `python -m mer_core.book params` checks PARAMS (an unknown key is an
# error naming it; book/params.example.yml lists every key) and writes, each only
# when its content changes: pipeline.yml (profile, seed: read by the data and
# cross-validation steps), params/NAME.yml (only the parameters notebook NAME
# declares) and nbsrc/NAME.json (the notebook's code without outputs, so a save in
# JupyterLab re-executes nothing unless code changed). A parameter change thus
# reaches every step that depends on it, once; the next run is a no-op.
BENCH_DIR := $(if $(filter 1,$(WITH_BENCH)),benchmarks/results)
# The real-4Q result of the book: a live run with DATA_4Q, else the committed recording.
RECORDED_4Q := book/recorded/4q-dev
REAL_4Q := $(if $(strip $(DATA_4Q)),$(BUILD)/results/4q-real,$(RECORDED_4Q))

PARAMS_CMD = $(BIN)/python -m mer_core.book params --build $(BUILD) --profile $(PROFILE) \
	--n-jobs $(N_JOBS) --data-4q "$(DATA_4Q)" --bench-dir "$(BENCH_DIR)" --params "$(PARAMS)" \
	$(NOTEBOOKS)
# Written while the Makefile is read (not by a rule), so that make then compares
# their time stamps like any other file's; a bad PARAMS stops make here.
ifneq ($(and $(wildcard $(STAMP)),$(filter reproduce book results,$(MAKECMDGOALS))),)
PARAMS_ERROR := $(shell $(PARAMS_CMD) 2>&1 >/dev/null || echo "the parameters could not be written")
ifneq ($(PARAMS_ERROR),)
$(error $(PARAMS_ERROR))
endif
endif
# (first run, before the environment exists)
$(BUILD)/pipeline.yml: | $(STAMP)
	$(PARAMS_CMD)
$(BUILD)/params/%.yml: | $(STAMP)
	$(PARAMS_CMD)
$(BUILD)/nbsrc/%.json: | $(STAMP)
	$(PARAMS_CMD)

# The generated corpora and the cross-validation runs (resumable, idempotent); the
# seed comes from PARAMS through pipeline.yml.
SEED = $$(sed -n 's/^seed: //p' $(BUILD)/pipeline.yml)

$(BUILD)/data/%/manifest.csv: $(BUILD)/pipeline.yml | $(STAMP)
	$(BIN)/mer pipeline data --build $(BUILD) --profile $(PROFILE) --scheme $* \
		--seed $(SEED) --n-jobs $(N_JOBS) $(SCHED_ARG)
	@touch $@

# (A resumed run leaves an unchanged results.json alone; `touch` marks it current.)
$(BUILD)/results/%/results.json: $(BUILD)/data/%/manifest.csv
	$(BIN)/mer pipeline results --build $(BUILD) --profile $(PROFILE) --scheme $* \
		--seed $(SEED) --n-jobs $(N_JOBS) $(SCHED_ARG)
	@touch $@

$(BUILD)/results/4q-real/results.json: $(BUILD)/pipeline.yml | $(STAMP)
	$(BIN)/mer pipeline results --build $(BUILD) --profile $(PROFILE) --scheme 4q \
		--name 4q-real --data "$(DATA_4Q)" --seed $(SEED) --n-jobs $(N_JOBS) $(SCHED_ARG)
	@touch $@

# One executed notebook per source notebook (papermill; the book never executes).
# The injected-parameters cell is then removed from the page and code is collapsed.
$(BOOK)/chapters/%.ipynb: $(BUILD)/nbsrc/%.json $(BUILD)/params/%.yml $(RESULTS)
	@mkdir -p $(@D)
	cd notebooks && ../$(BIN)/papermill --log-level WARNING --kernel python3 \
		-f $(abspath $(BUILD)/params/$*.yml) $*.ipynb $(abspath $@).tmp.ipynb \
		|| { echo "notebook notebooks/$*.ipynb failed: see the cell above; no book is built" >&2; \
		     rm -f $(abspath $@).tmp.ipynb; exit 1; }
	$(BIN)/python -m mer_core.book prepare $@.tmp.ipynb
	mv $@.tmp.ipynb $@

$(BOOK)/chapters/06_real_data_and_ablations.ipynb: $(wildcard $(RECORDED_4Q)/results.json)

# The intro's summary of the verdicts, computed from the results.
$(BOOK)/_generated/verdicts.md: $(RESULTS) $(wildcard $(RECORDED_4Q)/results.json) | $(STAMP)
	@mkdir -p $(@D)
	$(BIN)/python -m mer_core.book verdicts --build $(BUILD) --real "$(REAL_4Q)" --out $@

# Re-record the real 4Q evaluation shown by the default book (about 20 min on 2 cores):
#   make record-4q DATA_4Q=../shared/data/4q-dev
record-4q: | $(STAMP)
	@test -n "$(DATA_4Q)" || { echo "record-4q: give DATA_4Q=DIR (e.g. ../shared/data/4q-dev)" >&2; exit 2; }
	$(BIN)/mer pipeline results --build build/record --profile quick --scheme 4q \
		--name 4q-real --data "$(DATA_4Q)" --n-jobs $(N_JOBS)
	$(BIN)/python -m mer_core.book record build/record/results/4q-real $(RECORDED_4Q) \
		--data "$(DATA_4Q)" --command "make record-4q DATA_4Q=$(DATA_4Q) N_JOBS=$(N_JOBS)"

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

$(BOOK)/_build/html/index.html: $(EXECUTED) $(STAGED) $(BOOK)/_generated/verdicts.md \
		$(BOOK)/_mathjax/mathjax/tex-mml-chtml.js
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

# The paper profile timed on the cluster path (150 min measured on two cores before the
# networks were cross-fitted, which trains 6 networks per fit instead of 1; not part of
# `make bench`). BENCH_PAPER_ARGS="--workers 4 --build DIR" for a bigger machine;
# "--append" keeps the schemes a stopped run finished and runs only the others.
BENCH_PAPER_ARGS ?=
bench-paper: | $(STAMP)
	$(BIN)/python benchmarks/bench_paper_run.py $(BENCH_PAPER_ARGS)

clean:
	rm -rf .pytest_cache .ruff_cache build/*/book/_build
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +

FORCE:
