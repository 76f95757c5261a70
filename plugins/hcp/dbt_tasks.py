"""The dbt project as Airflow tasks, through astronomer-cosmos: one task per seed and model, its tests beside it.

The graph is rendered from the manifest of ``dbt parse`` (``hcp.dbt.ensure_manifest`` writes it before Airflow
starts; the Dockerfile bakes it into the image), so parsing the DAG file runs no dbt. Each task gets the
warehouse connection and the hashing key's pads as environment in ``pre_execute``, never as a templated
field: rendered templates are stored in Airflow's database and shown in the UI.
"""
from __future__ import annotations

import os
from typing import Any

from airflow.sdk import BaseOperator, RetryDecision, RetryPolicy
from airflow.task.trigger_rule import TriggerRule
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import PRODUCER_WATCHER_TASK_ID, ExecutionMode, InvocationMode, LoadMode, TestBehavior

from hcp import dbt, failures, settings, warehouse

EXECUTION_MODES = {"local": ExecutionMode.LOCAL, "watcher": ExecutionMode.WATCHER}


def set_dbt_environment(context: Any) -> None:
    """The task process's environment for dbt: profile values and PII pads from the Airflow connections."""
    os.environ.update(dbt.profile_env())
    # unit tests prove the SQL and belong to CI (tests/test_dbt_unit_tests.py), not to every night's data
    os.environ["DBT_EXCLUDE_RESOURCE_TYPES"] = "unit_test"


class RetryUnlessTheSqlFails(RetryPolicy):
    """Whether a failed dbt task is worth a retry. Cosmos reports a node's dbt status and message, never the
    driver's SQLSTATE, and a "Database Error" there is as likely a dropped connection as SQL that cannot run. So
    the model's compiled SQL (which Cosmos keeps on the task) is planned again with EXPLAIN, which runs nothing:
    an error a retry cannot heal (an undefined function or column, a syntax error) fails the task at once; a
    warehouse that cannot be reached, or SQL that plans, leaves it to the task's retries (a failure at run
    time: data or a dropped connection)."""

    def evaluate(self, exception, try_number, max_tries, context=None) -> RetryDecision:
        if failures.is_transient(exception):
            return RetryDecision.retry(reason=f"may heal: {failures.describe(exception)}")
        sql = getattr((context or {}).get("task"), "compiled_sql", None)
        if not sql or not sql.strip():
            return RetryDecision.default()  # a seed, a test, or nothing compiled: nothing to look at
        try:
            explain(sql)
        except Exception as error:  # the driver's verdict on the SQL is what we want
            if failures.is_transient(error):
                return RetryDecision.retry(reason=f"the warehouse: {failures.describe(error)}")
            return RetryDecision.fail(reason="not retried, the model's SQL fails the same way every time: "
                                             f"{failures.describe(error)}")
        return RetryDecision.default()


def explain(sql: str) -> None:
    conn = warehouse.connect(connect_timeout=15)
    try:
        with conn.cursor() as cur:
            cur.execute("set statement_timeout = '30s'")
            cur.execute("explain " + sql.strip().rstrip(";"))
    finally:
        conn.close()


def marts_task_group(night: str, mode: str = settings.DBT_EXECUTION_MODE, **group_kwargs: Any) -> DbtTaskGroup:
    """The dbt graph for one night, ``night`` being a template that renders to D (YYYY-MM-DD)."""
    manifest = dbt.manifest_path()
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest} is missing: `make manifest` writes it (so does every make target that "
                                "starts Airflow, and the Dockerfile)")
    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=settings.DBT_PROJECT_DIR, manifest_path=manifest, install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name="haochaping", target_name="warehouse",
            profiles_yml_filepath=settings.DBT_PROJECT_DIR / "profiles.yml",
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            # our own assets (hcp://warehouse/...) name the marts; Cosmos's would carry the server's address
            emit_datasets=False,
        ),
        execution_config=ExecutionConfig(
            execution_mode=EXECUTION_MODES[mode],
            # dbt in the task's own process: no second interpreter start per model
            invocation_mode=InvocationMode.DBT_RUNNER,
            # the watcher's one `dbt build` is never run twice: a model that failed is retried by its own task
            setup_operator_args={"retries": 0},
        ),
        operator_args={
            "vars": {"night": night},
            "pre_execute": set_dbt_environment,
            "append_env": True,
            "install_deps": False,
            "retry_policy": RetryUnlessTheSqlFails(),
        },
        **group_kwargs,
    )


def chain(prepared: BaseOperator, group: DbtTaskGroup, published: BaseOperator) -> None:
    """prepared >> the dbt tasks >> published.

    Watcher mode: the one `dbt build` (the producer) runs first and every model's task after it, reading the
    model's outcome from what the build reported. Cosmos would start them beside the build, to poll; here
    they wait for it, so the same DAG runs under `airflow dags test` (which runs one task at a time) and no
    sensor competes with dbt for a small worker's CPU. A model that failed fails its task; the task's retry
    runs dbt for that model alone. The root tasks run when the build ended either way, but not when
    prepared failed (then nothing was built)."""
    tasks = [t for t in group.dag.tasks if t.task_id.startswith(f"{group.group_id}.")]
    internal = {t.task_id for t in tasks}
    producer = next((t for t in tasks if t.task_id.endswith(f".{PRODUCER_WATCHER_TASK_ID}")), None)
    helpers = {t.task_id for t in tasks if producer is not None and t.task_id.startswith(producer.task_id)}  # + _done
    for task in tasks:
        if task.task_id in helpers:
            continue
        if not task.upstream_task_ids & internal:
            prepared >> task
            if producer is not None:
                producer >> task
                task.trigger_rule = TriggerRule.ALL_DONE_MIN_ONE_SUCCESS
        if not task.downstream_task_ids & internal:
            task >> published
    if producer is not None:
        prepared >> producer
