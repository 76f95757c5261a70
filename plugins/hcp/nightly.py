"""What the nightly DAG's tasks do, as plain functions that tests call without a scheduler.

Each fails at once (AirflowFailException) on an error no retry can heal; Airflow retries only the others, a
source or warehouse that was down or busy (hcp.failures).
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta

from hcp import calendar, dbt, preflight, runs, validation, warehouse
from hcp.failures import fail_unless_transient
from hcp.sources import SOURCES
from hcp.timeutil import BEIJING


@fail_unless_transient
def check_warehouse() -> None:
    """Before anything else: a warehouse or hashing key that cannot serve the night fails it at once."""
    preflight.check_warehouse()


@fail_unless_transient
def resolve_night(requested: str | None, run_time: datetime) -> date:
    """Night D: the one asked for, else the Beijing day before the run (a 02:00 run covers the night before)."""
    if requested:
        return date.fromisoformat(requested)
    return run_time.astimezone(BEIJING).date() - timedelta(days=1)


@fail_unless_transient
def extract(source: str, night: date) -> dict:
    with warehouse.connection() as conn:
        warehouse.ensure_schema(conn)
        return asdict(SOURCES[source].extract(conn, night))


@fail_unless_transient
def validate(source: str, batch_id: int, night: date) -> dict:
    """GX suites on the batch (column drift fails here), then row rules, holds, batch rules, reconciliation."""
    with warehouse.connection() as conn:
        suites = validation.validate_batch(conn, source, batch_id)
        return {"suites": suites, "reconciliation": validation.judge_batch(conn, source, batch_id, night)}


@fail_unless_transient
def prepare_marts(night: date) -> datetime:
    """Before dbt: the warehouse's schemas and the library's published calendar years (for dim_dates)."""
    with warehouse.connection() as conn:
        warehouse.ensure_schema(conn)
        calendar.refresh(conn)
    return datetime.now().astimezone()


@fail_unless_transient
def publish_marts(night: date, run_id: str, dbt_started_at: datetime) -> None:
    """After every dbt model and test passed: record the dbt stage, regenerate the docs."""
    runs.record_stage(run_id, "dbt_build", dbt_started_at)
    with runs.stage(run_id, "dbt_docs"):
        dbt.docs_generate(night)


@fail_unless_transient
def report(run_id: str, night: date, started_at: datetime, task_states: dict[str, str | None],
           batch_ids: list[int]) -> runs.Run:
    """Judge the run from its task states (what failed is what Airflow recorded, whatever the run's dates)."""
    return runs.report(run_id, night, started_at, task_states, batch_ids)
