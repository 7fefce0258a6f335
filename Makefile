# The verbs a newcomer needs. Each target installs what it needs by itself (into .venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= $(if $(TIKTOK_DATA_DIR),$(TIKTOK_DATA_DIR),data)
export TIKTOK_DATA_DIR := $(abspath $(DATA_DIR))
export DAGSTER_HOME := $(TIKTOK_DATA_DIR)/warehouse/dagster_home
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
# The make verbs write the bytecode of this project's modules and pytest's rewritten tests (git-ignored __pycache__
# folders), also where the environment says not to (PYTHONDONTWRITEBYTECODE=1, common in containers): else each
# test worker rewrites every test module again (a collection 14-24 s instead of 6-9 s).
unexport PYTHONDONTWRITEBYTECODE
# a run's ~580 planned events stored as one batch (lib/core/dagster_home.py: PLANNED_EVENTS_BATCH)
export DAGSTER_EVENT_BATCH_SIZE ?= 1000
export PATH := $(abspath $(BIN)):$(PATH)
ACCOUNTS ?= 300
DAYS ?= 90

.PHONY: run test ui bench lint live-record report prepare setup lock clean FORCE

# Until ./data/raw/inbox holds a file, the bundled demo runs in its own data directory, ./data/demo (seed_demo.py).
run: prepare  ## run the main job once on ./data (the demo in ./data/demo while ./data has no export)
	@data="$$($(BIN)/python -m orchestration.devtools.seed_demo)" && \
		TIKTOK_DATA_DIR="$$data" DAGSTER_HOME="$$data/warehouse/dagster_home" $(BIN)/python -m orchestration run

test: prepare  ## run the test suite
	$(BIN)/python -m pytest

report: setup  ## rebuild <data>/marts/report/ (HTML) from the published marts, without running the pipeline
	$(BIN)/python -m orchestration report

ui: prepare  ## Dagster UI on http://127.0.0.1:3000
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

bench: prepare  ## backfill + the next days for ACCOUNTS accounts over DAYS days, against 7 days of history
	$(BIN)/python -m orchestration.devtools.bench --accounts $(ACCOUNTS) --days $(DAYS)

# The dbt templater compiles the project, which opens the profile's warehouse: lint against an empty scratch
# data dir (.lint/, git-ignored) with its own dbt target path, never the real warehouse or dbt_project/target.
LINT_DIR := $(abspath .lint)

lint: setup  ## ruff, then sqlfluff (dbt templater, DuckDB dialect; config in pyproject.toml)
	$(BIN)/ruff check orchestration schemas tests
	$(BIN)/ruff format --check orchestration schemas tests
	mkdir -p $(LINT_DIR)/warehouse
	TIKTOK_DATA_DIR=$(LINT_DIR) DBT_TARGET_PATH=$(LINT_DIR)/target DBT_LOG_PATH=$(LINT_DIR)/logs \
		$(BIN)/sqlfluff lint dbt_project/models dbt_project/macros dbt_project/tests

# Optional and off by default: the LIVE recorder's client (TikTokLive: unofficial, AGPL-3.0, talks to tiktok.com and a
# third-party signing service) is installed by this verb only. Ctrl-C stops and saves. See docs/live.md.
live-record: $(VENV)/.installed-live  ## record a TikTok LIVE into the inbox: make live-record HANDLE=@name
	@test -n "$(HANDLE)" || { echo "usage: make live-record HANDLE=@name"; exit 2; }
	$(BIN)/python -m orchestration.live_recorder record "$(HANDLE)"

$(VENV)/.installed-live: $(VENV)/.installed
	@$(UV_BOOTSTRAP)
	@$(UV_LOCK_CHECK)
	$(UV_SYNC) --extra live
	touch $@

# dbt's manifest, read by Dagster when it loads the definitions (not at import time).
prepare: setup  ## the Dagster home, with telemetry and the UI's sign-up dialog off (dagster_home.py)
	$(BIN)/python -m orchestration.lib.core.dagster_home $(DAGSTER_HOME)
	$(BIN)/python -m orchestration.lib.core.dbt_manifest

setup: $(VENV)/.installed

# uv installs exactly the pinned set in uv.lock (the same for CI and users) into .venv. uv itself is a pinned
# wheel from PyPI in git-ignored .tools/, never installed globally. uv sends no telemetry.
UV_VERSION := 0.13.9
UV_HOME := .tools/uv-$(UV_VERSION)
UV := $(UV_HOME)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
# With the pip of $(PYTHON) (its base interpreter: .venv/bin comes first on PATH) the wheel is unpacked into
# .tools/ (~2 s); a Python without pip, or one that refuses, gets a bootstrap venv first (~5 s: it installs pip).
UV_PIP_FLAGS := --quiet --disable-pip-version-check uv==$(UV_VERSION)
UV_BOOTSTRAP = test -x $(UV) || { echo "bootstrapping uv $(UV_VERSION) into $(UV_HOME)"; rm -rf $(UV_HOME); \
	"$$($(PYTHON) -c 'import sys; print(sys._base_executable)')" -m pip install --target $(UV_HOME) \
		--no-warn-script-location $(UV_PIP_FLAGS) >/dev/null 2>&1 && test -x $(UV) || \
	{ rm -rf $(UV_HOME) && $(PYTHON) -m venv --clear $(UV_HOME) && $(UV_HOME)/bin/python -m pip install $(UV_PIP_FLAGS); }; }
# A uv.lock that no longer matches pyproject.toml is an error (--locked), never silently re-resolved.
UV_LOCK_CHECK = $(UV) lock --check --quiet || { echo "uv.lock does not match pyproject.toml: run make lock \
	(uv lock; UPGRADE=package moves one package), then commit uv.lock" >&2; exit 1; }
# No --compile-bytecode: compiling every package (~12,000 modules, ~234 MB of .pyc) was nearly all of the install,
# 22-78 s against ~2 s for uv's sync from its cache, while a demo run and its prepare import ~4,400 of them (the tests
# ~5,000). Each module is compiled the first time something imports it: the make verbs (unexport above) and `python -m
# orchestration` with its workers (orchestration/__main__.py) write bytecode even under PYTHONDONTWRITEBYTECODE, so that
# happens once, not on every command. A .venv that commands cannot write (a read-only image): UV_COMPILE_BYTECODE=1
# make setup.
UV_SYNC = $(UV) sync --locked --quiet --extra dev

lock: ## re-resolve uv.lock after editing pyproject.toml; make lock UPGRADE=dagster moves one package
	@$(UV_BOOTSTRAP)
	$(UV) lock $(if $(UPGRADE),--upgrade-package $(UPGRADE))

# Python 3.11 or 3.12 (pyproject's requires-python). A .venv made by another Python, or broken, is rebuilt.
PYTHON_OK := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))
VENV_STALE := $(shell test -e $(VENV) && ! $(BIN)/python -c '$(PYTHON_OK)' >/dev/null 2>&1 && echo yes)

# The venv is made by $(PYTHON) itself, so uv installs into the interpreter the version check accepted (an
# existing .venv, from uv or from the former pip install, is synced in place). A missing uv.lock is uv's error.
$(VENV)/.installed: pyproject.toml $(wildcard uv.lock) $(if $(VENV_STALE),FORCE)
	@$(PYTHON) -c '$(PYTHON_OK)' >/dev/null 2>&1 || { echo "This project needs Python 3.11 or 3.12, and $(PYTHON) is \
	$$($(PYTHON) --version 2>&1 || echo 'not installed'): run make PYTHON=python3.11 $(or $(MAKECMDGOALS),run)" >&2; exit 2; }
	@if test -e $(VENV) && ! $(BIN)/python -c '$(PYTHON_OK)' >/dev/null 2>&1; then \
		echo "$(VENV) was made by another Python or is broken: rebuilding it with $(PYTHON)"; rm -rf $(VENV); fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) --without-pip
	@$(UV_BOOTSTRAP)
	@$(UV_LOCK_CHECK)
	$(UV_SYNC)
	touch $@

clean:
	rm -rf dbt_project/target dbt_project/logs

FORCE:
