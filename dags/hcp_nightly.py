"""hcp_nightly: pull the night's ratings from every source, validate each batch, build the marts.

Thin on purpose: every task calls a function in plugins/hcp/nightly.py.
"""
from __future__ import annotations

from datetime import date, timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException
from airflow.timetables.trigger import CronTriggerTimetable

from hcp import nightly
from hcp.sources import SOURCES

BEIJING = "Asia/Shanghai"
# the marts BI reads (their contract: dbt_project/models/marts/_marts__models.yml)
MARTS = ["marts.fct_ratings", "marts.fct_bad_reviews", "marts.agency_performance", "marts.platform_performance",
         "marts.staff_performance", "marts.service_item_pain_points"]


def table_asset(table: str) -> Asset:
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

    @task(outlets=[table_asset(t) for t in MARTS], execution_timeout=timedelta(hours=1))
    def build_marts(night: str) -> None:
        nightly.build_marts(date.fromisoformat(night))

    night = resolve_night()
    marts = build_marts(night)
    validated = {}
    for source in SOURCES.values():
        @task(task_id=f"extract_{source.name}", outlets=[table_asset(t) for t in source.raw_tables],
              execution_timeout=timedelta(hours=1))
        def extract(night: str, name: str = source.name) -> dict:
            return nightly.extract(name, date.fromisoformat(night))

        @task(task_id=f"validate_{source.name}", execution_timeout=timedelta(minutes=30))
        def validate(batch: dict, night: str, name: str = source.name) -> dict:
            try:
                return nightly.validate(name, batch["batch_id"], date.fromisoformat(night))
            except nightly.BatchRejected as rejected:  # the data will not change on a retry
                raise AirflowFailException(str(rejected)) from rejected

        validated[source.name] = validate(extract(night), night)
        validated[source.name] >> marts
    # SMS replies are attributed through their case: judge them after tonight's master data is in.
    # Rectification events must find their rating: judge them after tonight's ratings are in.
    validated["master"] >> validated["sms"]
    [validated[s.name] for s in SOURCES.values() if s.is_channel] >> validated["rectification"]


dag = hcp_nightly()

if __name__ == "__main__":
    dag.test()
