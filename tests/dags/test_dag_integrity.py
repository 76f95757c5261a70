"""Every DAG file imports cleanly, and every task can be retried and has an owner."""
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

DAGS = Path(__file__).parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "hcp_nightly" in dagbag.dag_ids


NO_RETRY = {"report"}  # it judges what happened; a retry would judge the same


def test_every_task_has_retries_and_an_owner(dagbag):
    for dag in dagbag.dags.values():
        for t in dag.tasks:
            assert t.retries >= 1 or t.task_id in NO_RETRY, f"{dag.dag_id}.{t.task_id} has no retries"
            assert t.retry_exponential_backoff
            assert t.owner and t.owner != "airflow", f"{dag.dag_id}.{t.task_id} has no owner"


def test_nightly_runs_at_two_beijing_for_the_night_before(dagbag):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from hcp.nightly import resolve_night

    dag = dagbag.dags["hcp_nightly"]
    assert dag.timetable.summary == "0 2 * * *"
    run = datetime(2026, 11, 1, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    # 02:00 Beijing is 18:00 UTC the day before: the night is still Beijing's 10-31
    assert resolve_night(None, run.astimezone(ZoneInfo("UTC"))).isoformat() == "2026-10-31"
    assert resolve_night("2026-10-07", run).isoformat() == "2026-10-07"


def test_extract_validate_build_report_in_that_order(dagbag):
    dag = dagbag.dags["hcp_nightly"]
    assert dag.get_task("pc.extract").downstream_task_ids == {"pc.validate"}
    assert dag.get_task("pc.extract").pool == "hcp_warehouse_loads"
    assert "build_marts" in dag.get_task("pc.validate").downstream_task_ids
    assert dag.get_task("build_marts").downstream_task_ids == {"report"}


def test_a_source_that_fails_does_not_stop_the_others_or_the_marts(dagbag):
    dag = dagbag.dags["hcp_nightly"]
    # the marts and the report run whatever failed upstream
    assert dag.get_task("build_marts").trigger_rule == "all_done"
    assert dag.get_task("report").trigger_rule == "all_done"
    # one channel down must not keep tonight's events or replies out
    assert dag.get_task("rectification.validate").trigger_rule == "all_done"
    assert "rectification.validate" in dag.get_task("pc.validate").downstream_task_ids
    assert dag.get_task("sms.validate").trigger_rule == "all_done"
    assert dag.get_task("pc.validate").trigger_rule == "all_success"
    assert dag.on_failure_callback


def test_parsing_the_dag_file_stays_under_two_seconds(dagbag):
    # the dag-processor parses the file again and again: it must stay cheap (no dbt, no database at parse time)
    [stats] = [s for s in dagbag.dagbag_stats if s.file.endswith("hcp_nightly.py")]
    assert stats.duration.total_seconds() < 2, stats


def test_every_raw_table_and_every_mart_is_an_asset(dagbag):
    from pathlib import Path

    import yaml

    from hcp.sources import SOURCES

    dag = dagbag.dags["hcp_nightly"]
    outlets = {a.name for t in dag.tasks for a in t.outlets}
    contract = yaml.safe_load((Path(__file__).parents[2] / "dbt_project/models/marts/_marts__models.yml").read_text())
    marts = {f"marts.{m['name']}" for m in contract["models"]}
    assert marts <= outlets
    assert {t for s in SOURCES.values() for t in s.raw_tables} <= outlets
