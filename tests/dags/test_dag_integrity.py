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


def test_every_task_has_retries_and_an_owner(dagbag):
    for dag in dagbag.dags.values():
        for t in dag.tasks:
            assert t.retries >= 1, f"{dag.dag_id}.{t.task_id} has no retries"
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


def test_extract_validate_build_in_that_order(dagbag):
    dag = dagbag.dags["hcp_nightly"]
    assert dag.get_task("extract_pc").downstream_task_ids == {"validate_pc"}
    assert "build_marts" in dag.get_task("validate_pc").downstream_task_ids
