# Haochaping: `make run` (one night end to end on a demo world) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK_HASH := $(shell sha1sum requirements.lock | cut -c1-12)
STAMP := $(VENV)/.installed-$(LOCK_HASH)
HCP := PYTHONPATH=plugins $(BIN)/python -m hcp_dev.cli

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: run test test-pg15 lint night bench manifest ui docs dashboard psql stop env lock dashboard-lock clean

# The virtualenv, (re)installed from the lock whenever the lock changes.
$(STAMP): requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	@rm -f $(VENV)/.installed-* && touch $@

# Superset in a virtualenv of its own, so its pins never touch Airflow's; (re)installed when its lock changes.
SUPERSET_VENV := .venv-superset
SUPERSET_STAMP := $(SUPERSET_VENV)/.installed-$(shell sha1sum dashboard/requirements.lock | cut -c1-12)
$(SUPERSET_STAMP): dashboard/requirements.lock $(STAMP)
	@test -x $(SUPERSET_VENV)/bin/python || $(PYTHON) -m venv $(SUPERSET_VENV)
	$(BIN)/uv pip sync --quiet --python $(SUPERSET_VENV)/bin/python dashboard/requirements.lock
	@rm -f $(SUPERSET_VENV)/.installed-* && touch $@ && echo $(notdir $@) > $(SUPERSET_VENV)/.installed

run: $(STAMP)  ## generate the demo world and run its last night through Airflow
	$(HCP) demo

test: $(STAMP) $(SUPERSET_STAMP) lint  ## the whole suite
	$(BIN)/pytest

# The warehouse-facing tests again on Debian's PostgreSQL 15, the oldest server the warehouse supports.
PG15_BIN ?= /usr/lib/postgresql/15/bin
WAREHOUSE_TESTS := tests/test_end_to_end.py tests/test_bad_inputs.py tests/test_casts.py tests/test_fuzz.py \
	tests/test_two_nights.py tests/test_published_nights.py tests/test_validation.py tests/sources tests/marts
test-pg15: $(STAMP)  ## the warehouse-facing tests on Debian's PostgreSQL 15 (apt-get install postgresql-15)
	@test -x $(PG15_BIN)/initdb || { echo "no PostgreSQL 15 in $(PG15_BIN): apt-get install postgresql-15" >&2; exit 2; }
	HCP_TEST_POSTGRES_BIN=$(PG15_BIN) $(BIN)/pytest $(WAREHOUSE_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check plugins dags tests bench

night: $(STAMP)  ## one night against the sources the Airflow connections name: make night DATE=2026-10-31
	@test -n "$(DATE)" || { echo "usage: make night DATE=YYYY-MM-DD" >&2; exit 2; }
	$(HCP) night --date $(DATE)

SIZE ?= 10k
REPEAT ?= 3
HISTORY ?= 0
SLOTS ?= 0
bench: $(STAMP)  ## nights of SIZE ratings (10k, 100k, 1m, 5m) against COPY and to_sql, or on HISTORY nights of history; SLOTS=2: on the scheduler -> BENCHMARKS.md
	PYTHONPATH=plugins $(BIN)/python bench/night.py --size $(SIZE) --repeat $(REPEAT) --history-days $(HISTORY) --scheduler-slots $(SLOTS)

manifest: $(STAMP)  ## dbt parse into dbt_project/target/airflow/, the manifest hcp_nightly renders its dbt tasks from
	$(HCP) manifest

ui: $(STAMP)  ## airflow standalone (api-server, scheduler, dag-processor) on the same state
	$(HCP) ui

docs: $(STAMP)  ## serve dbt docs on http://127.0.0.1:8081
	$(HCP) docs

dashboard: $(STAMP) $(SUPERSET_STAMP)  ## 好差评绩效看板: Superset on the `make run` warehouse, on http://127.0.0.1:8088
	$(HCP) dashboard

dashboard-lock: $(STAMP)  ## re-resolve dashboard/requirements.txt into dashboard/requirements.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 dashboard/requirements.txt -o dashboard/requirements.lock

psql: $(STAMP)  ## psql on the warehouse
	$(HCP) psql

stop: $(STAMP)  ## stop Superset and the embedded PostgreSQL
	$(HCP) stop

env: $(STAMP)  ## shell exports to run airflow or dbt by hand: eval "$$(make -s env)"
	@$(HCP) env

lock: $(STAMP)  ## re-resolve requirements.txt into requirements.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 requirements.txt -o requirements.lock

clean: stop  ## remove local state (embedded database, Airflow home, logs); keeps the virtualenv
	rm -rf .local
