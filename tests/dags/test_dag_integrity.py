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


# report judges what happened, a retry would judge the same; the one dbt build is retried model by model
NO_RETRY = {"report", "dbt.dbt_producer_watcher"}


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
    assert "prepare_marts" in dag.get_task("pc.validate").downstream_task_ids
    assert dag.get_task("publish_marts").downstream_task_ids == {"report"}


def test_every_dbt_model_and_seed_is_a_task_followed_by_its_tests(dagbag, dbt_manifest):
    import json

    dag = dagbag.dags["hcp_nightly"]
    manifest = json.loads(dbt_manifest.read_text())
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")}
    tested = {n["attached_node"].split(".")[-1] for n in manifest["nodes"].values()
              if n["resource_type"] == "test" and n.get("attached_node")}
    dbt_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt.") and "producer" not in t.task_id}
    for name, node in nodes.items():
        verb = "seed" if node["resource_type"] == "seed" else "run"
        if name in tested:  # its own group: the model, then its tests
            assert {f"dbt.{name}.{verb}", f"dbt.{name}.test"} <= dbt_tasks, name
            assert f"dbt.{name}.test" in dag.get_task(f"dbt.{name}.{verb}").downstream_task_ids
        else:
            assert f"dbt.{name}_{verb}" in dbt_tasks, name
    # dbt's own order: fct_ratings after the ratings the night touches, the performance tables after the
    # bad reviews and the daily counts
    def run(name):
        return f"dbt.{name}.run" if f"dbt.{name}.run" in dbt_tasks else f"dbt.{name}_run"

    def right_after(name):  # after its tests, when it has some
        return dag.get_task(f"dbt.{name}.test" if f"dbt.{name}.test" in dbt_tasks else run(name)).downstream_task_ids

    for chain in (["int_ratings_touched", "int_ratings", "fct_ratings"],
                  ["int_rating_counts_daily", "int_performance_figures", "int_performance_scored", "agency_performance"]):
        assert all(run(later) in right_after(earlier) for earlier, later in zip(chain, chain[1:], strict=False))
    assert run("int_performance_figures") in dag.get_task("dbt.fct_bad_reviews.test").downstream_task_ids
    # the marts are published (docs, assets) only when every dbt task has passed
    leaves = {t for t in dbt_tasks if not dag.get_task(t).downstream_task_ids - {"publish_marts"}}
    assert leaves and all("publish_marts" in dag.get_task(t).downstream_task_ids for t in leaves)
    assert dag.get_task("publish_marts").trigger_rule == "all_success"


def test_watcher_runs_one_dbt_build_before_the_tasks_that_report_each_model(dagbag):
    dag = dagbag.dags["hcp_nightly"]
    producer = dag.get_task("dbt.dbt_producer_watcher")
    assert producer.upstream_task_ids == {"prepare_marts"}
    assert producer.retries == 0  # never a second whole build: a failed model's own task retries it alone
    roots = [t for t in dag.tasks if t.task_id.startswith("dbt.") and "producer" not in t.task_id
             and not {u for u in t.upstream_task_ids if u.startswith("dbt.") and "producer" not in u}]
    assert {"dbt.stg_pc__evaluations.run", "dbt.level_points.seed"} <= {t.task_id for t in roots}
    for task in roots:
        # after the build, whether it failed or not, but never when nothing was prepared
        assert task.upstream_task_ids == {"prepare_marts", "dbt.dbt_producer_watcher"}, task.task_id
        assert task.trigger_rule == "all_done_min_one_success"
    assert dag.get_task("dbt.fct_ratings_run").retries >= 1


def test_no_secret_is_a_templated_field_of_the_dbt_tasks(dagbag):
    # rendered templates are stored in Airflow's database and shown in the UI
    dag = dagbag.dags["hcp_nightly"]
    for t in dag.tasks:
        if t.task_id.startswith("dbt.") and not t.task_id.endswith("_done"):
            rendered = " ".join(str(getattr(t, field, "")) for field in t.template_fields)
            assert "hcp.pii" not in rendered and "PGOPTIONS" not in rendered and "password" not in rendered.lower()
            assert t.vars == {"night": "{{ ti.xcom_pull(task_ids='resolve_night') }}"}


def test_a_source_that_fails_does_not_stop_the_others_or_the_marts(dagbag):
    dag = dagbag.dags["hcp_nightly"]
    # the marts and the report run whatever failed upstream
    assert dag.get_task("prepare_marts").trigger_rule == "all_done"
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
    marts_dir = Path(__file__).parents[2] / "dbt_project/models/marts"
    marts = {f"marts.{m['name']}" for family in ("facts", "dimensions", "performance")
             for m in yaml.safe_load((marts_dir / f"_{family}__models.yml").read_text())["models"]}
    assert marts <= outlets
    assert {t for s in SOURCES.values() for t in s.raw_tables} <= outlets
