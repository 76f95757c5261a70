"""Telling people when a night goes wrong, through Airflow's notifier mechanism.

``RunAlert`` is the DAG's failure callback. It always logs; when the Airflow connection ``hcp_alerts``
exists it also POSTs a JSON message to it (an http connection: the webhook URL in the host, an optional
Bearer token in the password), so a deployment points it at its own chat webhook or mail gateway without
touching the DAG. Any other notifier (Airflow's SMTP or Slack providers) can replace it in the DAG file.

The message reads in Chinese, then in English: the night, why the run failed and which tasks failed.
"""
from __future__ import annotations

import logging

import requests
from airflow.sdk import BaseNotifier

from hcp import connections, nightly

log = logging.getLogger(__name__)
ALERTS_CONN_ID = "hcp_alerts"
# Airflow's reasons for failing a run (DagRun.update_state, the scheduler's dagrun_timeout), in Chinese
REASONS_ZH = {"task_failure": "有任务失败", "all_tasks_deadlocked": "任务互相阻塞，无法继续", "timed_out": "运行超时"}


def night_of(context) -> str | None:
    """Night D as the run's resolve_night task chose it: asked for in the conf, else from the run's time."""
    dag_run = context.get("dag_run")
    requested = (getattr(dag_run, "conf", None) or {}).get("night") or (context.get("params") or {}).get("night")
    run_time = context.get("logical_date") or getattr(dag_run, "logical_date", None) or getattr(
        dag_run, "run_after", None)
    if not requested and not run_time:
        return None
    try:
        return nightly.resolve_night(requested, run_time).isoformat()
    except ValueError:  # a night that is not a date: say it as given rather than lose the alert
        return str(requested)


def failed_tasks(dag_id: str, run_id: str | None) -> list[str]:
    """The run's failed tasks, or [] when Airflow cannot tell. The callback's dag_run is the Task SDK's data
    model, with no get_task_instances: the dag-processor answers through its supervisor; ``airflow dags test``
    runs the callback in its own process, beside the metadata database."""
    if not run_id:
        return []
    try:
        from airflow.sdk.execution_time import task_runner

        if hasattr(task_runner, "SUPERVISOR_COMMS"):
            states = task_runner.RuntimeTaskInstance.get_task_states(dag_id=dag_id, run_ids=[run_id])
            states = states.get(run_id, {})
        else:
            from airflow.models.taskinstance import TaskInstance as TI
            from airflow.utils.session import create_session
            from sqlalchemy import select

            with create_session() as session:
                states = dict(session.execute(
                    select(TI.task_id, TI.state).where(TI.dag_id == dag_id, TI.run_id == run_id)).all())
    except Exception as exc:  # the alert goes out without the list rather than not at all
        log.warning("could not list the failed tasks of %s: %s", run_id, exc)
        return []
    return sorted(task for task, state in states.items() if state == "failed")


def message(context) -> dict:
    """What went wrong, in words (Chinese, then English) and fields, from the callback's context."""
    dag_run = context.get("dag_run")
    dag_id = getattr(dag_run, "dag_id", None) or getattr(context.get("dag"), "dag_id", None) or "hcp_nightly"
    run_id = context.get("run_id") or getattr(dag_run, "run_id", None)
    ti = context.get("task_instance") or context.get("ti")
    night = night_of(context)
    reason = str(context.get("reason") or context.get("exception") or "a task failed")
    failed = failed_tasks(dag_id, run_id)
    zh = (f"好差评夜间任务失败：{dag_id} 运行 {run_id}" + (f"（{night} 夜）" if night else "")
          + f"，原因：{REASONS_ZH.get(reason, reason)}" + (f"；失败的任务：{'、'.join(failed)}" if failed else ""))
    en = (f"{dag_id} run {run_id} failed" + (f" (night {night})" if night else "") + f": {reason}"
          + (f"; failed tasks: {', '.join(failed)}" if failed else ""))
    return {"text": f"{zh}\n{en}", "dag_id": dag_id, "run_id": run_id, "task_id": getattr(ti, "task_id", None),
            "night": night, "reason": reason, "failed_tasks": failed}


def send(payload: dict) -> bool:
    """POST the payload to the ``hcp_alerts`` webhook if there is one; True when it was delivered."""
    try:
        conn = connections.get_connection(ALERTS_CONN_ID)
    except connections.MissingConnection:
        return False
    headers = {"Authorization": f"Bearer {conn.password}"} if conn.password else {}
    response = requests.post(connections.http_base_url(conn), json=payload, headers=headers, timeout=10)
    response.raise_for_status()
    return True


class RunAlert(BaseNotifier):
    """Failure callback of hcp_nightly: logs the failure and sends it to the ``hcp_alerts`` webhook."""

    def render_template_fields(self, context, jinja_env=None) -> None:
        # Nothing here is templated. BaseNotifier would still ask context["dag"] for a Jinja environment,
        # and `airflow dags test` passes a SerializedDAG, which has none (AttributeError, no alert).
        if self.template_fields:
            super().render_template_fields(context, jinja_env)

    def notify(self, context) -> None:
        payload = message(context)
        log.error("%s", payload["text"])
        try:
            delivered = send(payload)
        except requests.RequestException as exc:  # an alert that cannot be sent must not hide the failure
            log.error("could not deliver the alert to %s: %s", ALERTS_CONN_ID, exc)
            return
        if delivered:
            log.info("alert delivered to %s", ALERTS_CONN_ID)
