"""hcp_nightly: pull the night's ratings, validate each batch, build the marts.

Thin on purpose: every task calls a function in plugins/hcp/nightly.py.
"""
from __future__ import annotations

from datetime import date, timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from hcp import nightly
from hcp.sources import SOURCES

BEIJING = "Asia/Shanghai"
MARTS = Asset(name="marts.agency_daily_ratings", uri="hcp://warehouse/marts/agency_daily_ratings")


def raw_asset(source: str) -> Asset:
    table = SOURCES[source].raw_table
    return Asset(name=table, uri=f"hcp://warehouse/{table.replace('.', '/')}")


@dag(
    dag_id="hcp_nightly",
    schedule=CronTriggerTimetable("0 2 * * *", timezone=BEIJING),
    start_date=pendulum.datetime(2026, 1, 1, tz=BEIJING),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "haochaping", "retries": 2, "retry_delay": timedelta(minutes=2)},
    params={"night": Param(None, type=["null", "string"], format="date",
                           description="Night D to cover (YYYY-MM-DD); default: the Beijing day before the run")},
    tags=["haochaping"],
    doc_md=__doc__,
)
def hcp_nightly():
    @task
    def resolve_night() -> str:
        context = get_current_context()
        run_time = context["logical_date"] or context["dag_run"].run_after
        return nightly.resolve_night(context["params"].get("night"), run_time).isoformat()

    @task(outlets=[raw_asset("pc")], execution_timeout=timedelta(hours=1))
    def extract_pc(night: str) -> dict:
        return nightly.extract("pc", date.fromisoformat(night))

    @task(execution_timeout=timedelta(minutes=30))
    def validate_pc(batch: dict) -> dict:
        return nightly.validate("pc", batch["batch_id"])

    @task(outlets=[MARTS], execution_timeout=timedelta(hours=1))
    def build_marts(night: str) -> None:
        nightly.build_marts(date.fromisoformat(night))

    night = resolve_night()
    validated = validate_pc(extract_pc(night))
    validated >> build_marts(night)


dag = hcp_nightly()

if __name__ == "__main__":
    dag.test()
