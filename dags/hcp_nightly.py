"""hcp_nightly: pull the night's ratings from every source, validate each batch, build the marts, report.

Thin on purpose: every task calls a function in plugins/hcp/nightly.py. A source that is down fails alone:
the marts are built from what arrived, the report names the missing source (audit.runs status 'degraded')
and fails the run so the failure callback alerts; the next night catches up from the source's watermark.
A night that succeeds tells offices its marts are ready (success callback). Alert targets: plugins/hcp/alerts.py.
Retries heal only what can heal (a source or the warehouse down or busy); anything else fails its task at once.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task, task_group
from airflow.sdk.exceptions import AirflowFailException
from airflow.timetables.trigger import CronTriggerTimetable

from hcp import dbt_tasks, nightly, settings
from hcp.alerts import RunAlert, RunReadyAlert
from hcp.failures import RetryOnlyTransient
from hcp.sources import SOURCES

BEIJING = "Asia/Shanghai"
# the marts BI reads (their contracts: the _*__models.yml files of dbt_project/models/marts/)
MARTS = [f"marts.{name}" for name in (
    "fct_ratings", "fct_bad_reviews", "rectification_watchlist",
    "agency_performance", "platform_performance", "staff_performance", "service_item_performance",
    "region_performance", "published_performance", "performance_restatements", "service_item_pain_points",
    "dim_agencies", "dim_platforms", "dim_staff", "dim_service_items", "dim_channels", "dim_dates",
    "dim_reason_codes", "data_status",
)]


WAITS_FOR_OTHERS = {name: waits for name, s in SOURCES.items() if (waits := s.waits_for(SOURCES))}


def table_asset(table: str) -> Asset:
    return Asset(name=table, uri=f"hcp://warehouse/{table.replace('.', '/')}")


@dag(
    dag_id="hcp_nightly",
    schedule=None if settings.NIGHTLY_SCHEDULE == "manual" else CronTriggerTimetable(settings.NIGHTLY_SCHEDULE,
                                                                                      timezone=BEIJING),
    start_date=pendulum.datetime(2026, 1, 1, tz=BEIJING),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "haochaping", "retries": settings.TASK_RETRIES, "retry_delay": timedelta(minutes=1),
                  "retry_exponential_backoff": 2.0, "max_retry_delay": timedelta(minutes=15),
                  "retry_policy": RetryOnlyTransient()},
    on_failure_callback=RunAlert(),
    on_success_callback=RunReadyAlert(),
    params={"night": Param(None, type=["null", "string"], format="date",
                           description="Night D to cover (YYYY-MM-DD); default: the Beijing day before the run")},
    tags=["haochaping"],
    doc_md=__doc__,
)
def hcp_nightly():
    @task
    def resolve_night() -> str:
        nightly.check_warehouse()  # a warehouse or hashing key that cannot serve the night fails it here
        context = get_current_context()
        # a run triggered by hand may have no logical date: its run_after stands in
        run_time = context.get("logical_date") or context["dag_run"].run_after
        return nightly.resolve_night(context["params"].get("night"), run_time).isoformat()

    # all_done: the marts are built from the sources that arrived, whichever failed
    @task(trigger_rule="all_done")
    def prepare_marts(night: str) -> str:
        return nightly.prepare_marts(date.fromisoformat(night)).isoformat()

    @task(outlets=[table_asset(t) for t in MARTS])
    def publish_marts(night: str, dbt_started_at: str) -> None:
        nightly.publish_marts(date.fromisoformat(night), get_current_context()["run_id"],
                              datetime.fromisoformat(dbt_started_at))

    @task(trigger_rule="all_done", retries=0)
    def report(night: str) -> None:
        context = get_current_context()
        ti = context["ti"]
        # the run's own task states say what failed (through the Task SDK: no metadata DB access from a task)
        states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {})
        batches = [b["batch_id"] for b in (ti.xcom_pull(task_ids=f"{s}.extract") for s in SOURCES) if b]
        run = nightly.report(ti.run_id, date.fromisoformat(night), context["dag_run"].start_date, states, batches)
        if run.status != "succeeded":  # recorded; now make Airflow show it and call the failure callback
            raise AirflowFailException(run.verdict.message)

    night = resolve_night()
    prepared = prepare_marts(night)
    # a task per seed and model, each followed by its tests (Cosmos); a failure stops what depends on it
    models = dbt_tasks.marts_task_group(night="{{ ti.xcom_pull(task_ids='resolve_night') }}",
                                        default_args={"execution_timeout": timedelta(minutes=30)})
    published = publish_marts(night, prepared)
    dbt_tasks.chain(prepared, models, published)
    validated = {}
    for source in SOURCES.values():
        @task_group(group_id=source.name)
        def load(night: str, source=source):
            # extract: a pool bounds how many loads write to the warehouse at once
            @task(task_id="extract", outlets=[table_asset(t) for t in source.raw_tables], pool=settings.LOAD_POOL,
                  execution_timeout=timedelta(hours=1))
            def extract(night: str, name: str = source.name) -> dict:
                return nightly.extract(name, date.fromisoformat(night))

            # a source validated after others (sms after master data, rectification after the channels) waits
            # for them, but not for their success: a reply whose case is not in yet is held, an event whose
            # rating is not in yet is judged again when re-read
            @task(task_id="validate", execution_timeout=timedelta(minutes=30),
                  trigger_rule="all_success" if source.name not in WAITS_FOR_OTHERS else "all_done")
            def validate(batch: dict, night: str, name: str = source.name) -> dict:
                return nightly.validate(name, batch["batch_id"], date.fromisoformat(night))

            return validate(extract(night), night)

        validated[source.name] = load(night)
        validated[source.name] >> prepared
    for source, others in WAITS_FOR_OTHERS.items():
        [validated[o] for o in others] >> validated[source]
    published >> report(night)


dag = hcp_nightly()

if __name__ == "__main__":
    dag.test()
