"""Telling people when a night goes wrong, through Airflow's notifier mechanism.

``RunAlert`` is the DAG's failure callback. It always logs; when the Airflow connection ``hcp_alerts``
exists it also POSTs a JSON message to it (an http connection: the webhook URL in the host, an optional
Bearer token in the password), so a deployment points it at its own chat webhook or mail gateway without
touching the DAG. Any other notifier (Airflow's SMTP or Slack providers) can replace it in the DAG file.
"""
from __future__ import annotations

import logging

import requests
from airflow.sdk import BaseNotifier

from hcp import connections

log = logging.getLogger(__name__)
ALERTS_CONN_ID = "hcp_alerts"


def message(context) -> dict:
    """What went wrong, in words and fields, from the callback's context."""
    dag_run = context.get("dag_run")
    run_id = context.get("run_id") or getattr(dag_run, "run_id", None)
    ti = context.get("task_instance") or context.get("ti")
    night = (getattr(dag_run, "conf", None) or {}).get("night") or context.get("params", {}).get("night")
    reason = str(context.get("reason") or context.get("exception") or "a task failed")
    text = f"hcp_nightly run {run_id} failed" + (f" (night {night})" if night else "") + f": {reason}"
    return {"text": text, "dag_id": getattr(dag_run, "dag_id", "hcp_nightly"), "run_id": run_id,
            "task_id": getattr(ti, "task_id", None), "night": night, "reason": reason}


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
