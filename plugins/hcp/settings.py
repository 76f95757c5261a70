"""Where things live. Paths derive from this file so the project runs from any clone."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("HCP_PROJECT_ROOT", Path(__file__).resolve().parents[2]))
LOCAL_DIR = Path(os.environ.get("HCP_LOCAL_DIR", PROJECT_ROOT / ".local"))  # git-ignored state
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
GX_ROOT = PROJECT_ROOT / "expectations"

WAREHOUSE_CONN_ID = "hcp_warehouse"
# The secret key of the keyed hashes that replace personal data (its password); never in the repo
PII_KEY_CONN_ID = "hcp_pii"
WAREHOUSE_DB = "hcp"
AIRFLOW_DB = os.environ.get("HCP_AIRFLOW_DB", "airflow")
EMBEDDED_PORT = int(os.environ.get("HCP_PG_PORT", "54329"))

# Retries of each nightly task (with exponential backoff from one minute); tests set 0 to see failures at once
TASK_RETRIES = int(os.environ.get("HCP_TASK_RETRIES", "2"))
# The Airflow pool that bounds how many sources load into the warehouse at once
LOAD_POOL = "hcp_warehouse_loads"
LOAD_POOL_SLOTS = int(os.environ.get("HCP_LOAD_POOL_SLOTS", "4"))
# hcp_nightly's cron (Beijing time); "manual" leaves it to triggers and backfills only (tests, staging copies)
NIGHTLY_SCHEDULE = os.environ.get("HCP_NIGHTLY_SCHEDULE", "0 2 * * *")
# How Airflow runs the dbt models (Cosmos): "local" (a task per model runs it) or "watcher" (one dbt build,
# a sensor per model); measured on this project in docs/operations.md
DBT_EXECUTION_MODE = os.environ.get("HCP_DBT_EXECUTION_MODE", "watcher")
