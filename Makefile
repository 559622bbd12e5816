# The README's two commands are `make repro` and `make test`; `make` lists the rest.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
# Stages run `python` and `dvc` from PATH: make it the project's environment.
export PATH := $(abspath $(BIN)):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help install install-dev params repro search reset test test-fast lint dag metrics exps sweep promote report gate verify deps push pull serve predict bench bench-sweep bench-serving bench-scale bench-search bench-boosting bench-distributed bench-monitor bench-suite register assign registry clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	@touch $(VENV)/.installed $@

# The offline `dvc plots show/diff` page template, built from the installed vl-convert.
.dvc/offline_plots.html: src/reprolab/workflow/offline_plots.py | $(VENV)/.installed
	$(BIN)/python -m reprolab.workflow.offline_plots --output $@

# The git hooks of .pre-commit-config.yaml: post-checkout runs `dvc checkout`, so that a
# `git checkout` brings the data and models of that commit; pre-push pushes DVC data.
$(VENV)/.hooks: .pre-commit-config.yaml | $(VENV)/.installed
	@if git rev-parse --git-dir >/dev/null 2>&1 && $(BIN)/pre-commit install >/dev/null; then \
	  echo "installed git hooks (pre-commit, pre-push, post-checkout): git checkout now runs dvc checkout"; \
	else echo "warning: git hooks not installed (not a git checkout, or core.hooksPath is set)"; fi
	@touch $@

install: $(VENV)/.installed .dvc/offline_plots.html $(VENV)/.hooks ## Create .venv, install pinned dependencies and the git hooks

install-dev: $(VENV)/.installed-dev .dvc/offline_plots.html $(VENV)/.hooks ## install, plus the test and lint tools

params: install ## Recompose params.yaml from conf/ (as `dvc exp run` does)
	$(BIN)/python -m reprolab.workflow.compose

repro: install params ## Set up and run the pipeline (`dvc repro`) on the default data
	$(BIN)/dvc repro

# One pytest worker per core, each running whole modules (their module fixtures hold a
# repository that the module's tests build on); then the Ray modules alone, since a busy
# machine makes Ray miss heartbeats (docs/benchmarks.md, "The test suite").
test: install-dev ## Set up and run every test, then every pre-commit hook
	$(BIN)/python -m pytest -n auto --dist loadfile -m "not ray" --durations=20
	$(BIN)/python -m pytest -n auto --dist loadfile -m ray --durations=20
	$(BIN)/pre-commit run --all-files --show-diff-on-failure

test-fast: install-dev ## The inner loop: unit, config and model tests (under a minute)
	$(BIN)/python -m pytest tests/unit tests/config tests/model -q -n auto --dist loadfile

lint: install-dev ## Run the pre-commit hooks only
	$(BIN)/pre-commit run --all-files --show-diff-on-failure

GRID ?= default
MODE ?= workspace
JOBS ?= 2
sweep: install ## Run a sweep grid and wait (GRID=default MODE=workspace|queue|ray JOBS=2 RAY_ADDRESS=host:port)
	PYTHONPATH=src $(BIN)/python -m reprolab.workflow.sweep --grid $(GRID) --mode $(MODE) --jobs $(JOBS) $(if $(RAY_ADDRESS),--address $(RAY_ADDRESS))

SPACE ?= forest
search: install ## Optuna search over conf/search/$(SPACE).yaml, every trial an experiment (TRIALS=N MODE=local|ray)
	PYTHONPATH=src $(BIN)/python -m reprolab.workflow.search --space $(SPACE) --mode $(if $(filter ray,$(MODE)),ray,local) $(if $(TRIALS),--trials $(TRIALS)) $(if $(RAY_ADDRESS),--address $(RAY_ADDRESS))

reset: install ## Back to the last commit: pipeline files (stashed first, nothing lost) and DVC outputs
	PYTHONPATH=src $(BIN)/python -m reprolab.workflow.reset

exps: install ## Experiments of the last 10 commits, ranked, differing params only (ALL=1: every commit)
	PYTHONPATH=src $(BIN)/python -m reprolab.workflow.experiments $(if $(ALL),--all)

promote: install ## Write experiment EXP's config into conf/ and restore its outputs (EXP=<name>)
	@test -n "$(EXP)" || { echo "usage: make promote EXP=<experiment name>  (see make exps)"; exit 2; }
	PYTHONPATH=src $(BIN)/python -m reprolab.workflow.promote $(EXP)

# STAGE=prod: the registered version that holds the stage, fetched from the DVC remote
# into ~/.cache/reprolab/registry (docs/registry.md), instead of the workspace's model.
FETCHED = $$(PYTHONPATH=src $(BIN)/python -m reprolab.workflow.registry fetch --stage $(STAGE))
serve: install ## Serve the trained model over HTTP (serve.host:serve.port; STAGE=prod: that registered version)
	@if [ -n "$(STAGE)" ]; then folder=$(FETCHED) || exit 1; \
	  PYTHONPATH=src $(BIN)/python -m reprolab.serve.app --served "$$folder" --stage $(STAGE); \
	else PYTHONPATH=src $(BIN)/python -m reprolab.serve.app; fi

predict: install ## Score a file with the trained model (INPUT=<csv|parquet> OUTPUT=<csv|parquet> [STAGE=prod])
	@test -n "$(INPUT)" -a -n "$(OUTPUT)" || { echo "usage: make predict INPUT=<file> OUTPUT=<file> [STAGE=<stage>]"; exit 2; }
	@if [ -n "$(STAGE)" ]; then folder=$(FETCHED) || exit 1; \
	  PYTHONPATH=src $(BIN)/python -m reprolab.serve.predict --served "$$folder" --input $(INPUT) --output $(OUTPUT); \
	else PYTHONPATH=src $(BIN)/python -m reprolab.serve.predict --input $(INPUT) --output $(OUTPUT); fi

REMOTE ?=
push: install ## Push DVC-tracked data and outputs to the DVC remote (REMOTE=<name>, default: the default remote)
	$(BIN)/dvc push $(if $(REMOTE),-r $(REMOTE))

pull: install ## Pull DVC-tracked data and outputs from the DVC remote (REMOTE=<name>)
	$(BIN)/dvc pull $(if $(REMOTE),-r $(REMOTE))

verify: install ## Build the pipeline twice from clean copies; fail naming any output that differs
	PYTHONPATH=src $(BIN)/python -m reprolab.workflow.verify $(VERIFY_ARGS)

deps: install ## Rewrite each stage's code deps in dvc.yaml from its imports (a test checks them)
	PYTHONPATH=src $(BIN)/python -m reprolab.workflow.stage_deps

BASE ?= main
report: install ## Write reports/pr_report.md: workspace vs BASE (default main); exit 1 if the gate fails
	PYTHONPATH=src $(BIN)/python -m reprolab.workflow.report --base $(BASE)

BUMP ?= patch
register: install ## Register HEAD's model as a version (BUMP=patch|minor|major; FORCE=1 REASON="..." past the gate)
	PYTHONPATH=src $(BIN)/python -m reprolab.workflow.registry register --bump $(BUMP) $(if $(FORCE),--force) $(if $(REASON),--reason "$(REASON)")

assign: install ## Assign a stage to a version, in the stage order (STAGE=dev|staging|prod VERSION=vX.Y.Z)
	@test -n "$(STAGE)" || { echo "usage: make assign STAGE=<stage> [VERSION=vX.Y.Z]  (see make registry)"; exit 2; }
	PYTHONPATH=src $(BIN)/python -m reprolab.workflow.registry assign --stage $(STAGE) $(if $(VERSION),--version $(VERSION))

registry: install ## Show the registry: versions, stages, who and when
	PYTHONPATH=src $(BIN)/python -m reprolab.workflow.registry show

gate: install ## One-line merge verdict: workspace vs BASE (default main); exit 1 if it fails
	PYTHONPATH=src $(BIN)/python -m reprolab.workflow.report --base $(BASE) --gate-only

dag: install ## Show the stage graph
	$(BIN)/dvc dag

metrics: install ## Show the workspace's metrics next to HEAD's
	$(BIN)/dvc metrics diff --md

bench: install ## Benchmark DVC overhead and stage start-up (prints a table)
	$(BIN)/python bench/pipeline_overhead.py

bench-serving: install ## Benchmark prediction latency (HTTP, in-process) and batch throughput
	$(BIN)/python bench/serving.py

bench-sweep: install ## Benchmark a 4-run sweep: workspace, queue -j 1/-j 2, Ray local and 2 nodes, bare compute
	$(BIN)/python bench/sweep_cost.py

bench-search: install ## Benchmark TPE against the full grid: trials to come within 0.5% of the grid's best
	PYTHONPATH=src $(BIN)/python bench/search_efficiency.py

bench-boosting: install ## Benchmark histogram gradient boosting, LightGBM and XGBoost at 1M and 10M rows (ROWS=...)
	$(BIN)/python bench/boosting.py $(if $(ROWS),--rows $(ROWS))

bench-distributed: install ## Benchmark one LightGBM fit in memory, out of core, on Ray with 1 and 2 workers (ROWS=...)
	$(BIN)/python bench/distributed.py $(if $(ROWS),--rows $(ROWS))

bench-monitor: install ## Benchmark performance estimated without labels against realized, per kind of shift (ROWS=...)
	$(BIN)/python bench/monitor.py $(if $(ROWS),--rows $(ROWS))

bench-suite: install-dev ## Where the test suite's CPU time goes: by kind of process and by test module (ARGS="-m ray")
	$(BIN)/python bench/suite_cpu.py -- $(or $(ARGS),-m "not ray")

bench-scale: install ## Benchmark every stage on synthetic data at 100k, 1M, 10M rows (ROWS=...)
	$(BIN)/python bench/scale.py $(if $(ROWS),--rows $(ROWS))

clean: ## Remove the virtual environment (data and DVC cache stay)
	rm -rf $(VENV)
