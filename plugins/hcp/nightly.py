"""What the nightly DAG's tasks do, as plain functions that tests call without a scheduler."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta

from hcp import calendar, dbt, runs, validation, warehouse
from hcp.sources import SOURCES
from hcp.timeutil import BEIJING


def resolve_night(requested: str | None, run_time: datetime) -> date:
    """Night D: the one asked for, else the Beijing day before the run (a 02:00 run covers the night before)."""
    if requested:
        return date.fromisoformat(requested)
    return run_time.astimezone(BEIJING).date() - timedelta(days=1)


def extract(source: str, night: date) -> dict:
    with warehouse.connection() as conn:
        warehouse.ensure_schema(conn)
        return asdict(SOURCES[source].extract(conn, night))


# A batch judged unfit: retrying the task cannot change the verdict.
BatchRejected = (validation.BatchValidationFailed, validation.ReconciliationFailed)


def validate(source: str, batch_id: int, night: date) -> dict:
    """GX suites on the batch (column drift fails here), then row rules, holds, batch rules, reconciliation."""
    with warehouse.connection() as conn:
        suites = validation.validate_batch(conn, source, batch_id)
        return {"suites": suites, "reconciliation": validation.judge_batch(conn, source, batch_id, night)}


def prepare_marts(night: date) -> datetime:
    """Before dbt: the warehouse's schemas and the library's published calendar years (for dim_dates)."""
    with warehouse.connection() as conn:
        warehouse.ensure_schema(conn)
        calendar.refresh(conn)
    return datetime.now().astimezone()


def publish_marts(night: date, run_id: str, dbt_started_at: datetime) -> None:
    """After every dbt model and test passed: record the dbt stage, regenerate the docs."""
    runs.record_stage(run_id, "dbt_build", dbt_started_at)
    with runs.stage(run_id, "dbt_docs"):
        dbt.docs_generate(night)


def report(run_id: str, night: date, started_at: datetime) -> runs.Run:
    return runs.report(run_id, night, started_at)
