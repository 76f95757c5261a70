"""The failure notifier posts to a real webhook, and an alert that cannot be sent never hides the failure.

The last test fails a night by `make night`'s path (``airflow dags test``), where Airflow hands the DAG's
failure callback a SerializedDAG, and checks that the alert still reaches the webhook.
"""
import json
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from hcp import connections, settings
from hcp.alerts import RunAlert
from hcp.cluster import free_port
from hcp.sources import SOURCES
from tests.conftest import NIGHT


@contextmanager
def webhook_receiver():
    """A real HTTP receiver on 127.0.0.1: (its URL, the (path, Authorization, JSON) of each POST, a dict whose
    "code" is the status it answers). A GET finds nothing (404), so a source API aimed here fails at once."""
    received, status = [], {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers.get("Authorization"), json.loads(body)))
            self.send_response(status["code"])
            self.end_headers()

        def do_GET(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/hcp", received, status
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook():
    with webhook_receiver() as hook:
        yield hook


def context(reason="run degraded: missing sources ['pc']"):
    dag_run = SimpleNamespace(dag_id="hcp_nightly", run_id="scheduled__2026-11-01", conf={"night": "2026-10-31"})
    return {"dag_run": dag_run, "run_id": dag_run.run_id, "reason": reason,
            "task_instance": SimpleNamespace(task_id="report"), "params": {}}


def test_the_alert_reaches_the_webhook_named_by_the_connection(webhook, monkeypatch):
    url, received, _ = webhook
    monkeypatch.setenv("AIRFLOW_CONN_HCP_ALERTS", json.dumps({"conn_type": "http", "host": url, "password": "s3"}))
    RunAlert().notify(context())
    [(path, auth, payload)] = received
    assert path == "/hooks/hcp" and auth == "Bearer s3"
    assert payload["night"] == "2026-10-31" and payload["run_id"] == "scheduled__2026-11-01"
    assert payload["text"].splitlines()[-1] == ("hcp_nightly run scheduled__2026-11-01 failed (night 2026-10-31): "
                                                "run degraded: missing sources ['pc']")
    assert payload["text"].startswith("好差评夜间任务失败")


def test_without_a_webhook_the_alert_is_only_logged(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_HCP_ALERTS", raising=False)
    RunAlert().notify(context())
    assert "missing sources ['pc']" in caplog.text


def test_a_webhook_that_fails_does_not_raise(webhook, monkeypatch, caplog):
    url, received, status = webhook
    status["code"] = 500
    monkeypatch.setenv("AIRFLOW_CONN_HCP_ALERTS", json.dumps({"conn_type": "http", "host": url}))
    RunAlert().notify(context())
    assert len(received) == 1 and "could not deliver the alert" in caplog.text


def sources_down(api_url: str, tmp_path) -> dict[str, str]:
    """Every source connection well formed, as `make night` checks them, but down when the night runs: the APIs
    know no such path, the hotline's port has nothing listening, the folders hold no delivery. The APIs and the
    hotline fail on their first try."""
    (tmp_path / "empty").mkdir()
    by_type = {
        "http": {"conn_type": "http", "host": api_url, "password": "token"},
        "postgres": {"conn_type": "postgres", "host": "127.0.0.1", "port": free_port(), "login": "nobody",
                     "schema": "nothing"},
        "fs": {"conn_type": "fs", "extra": {"path": str(tmp_path / "empty")}},
    }
    kinds = {"pc": "http", "rectification": "http", "hotline": "postgres"}
    return {connections.env_var(s.conn_id): json.dumps(by_type[kinds.get(s.name, "fs")]) for s in SOURCES.values()}


def test_a_night_that_fails_by_make_night_alerts_the_webhook(webhook, make_database, tmp_path):
    """`make night` with the sources down: the run fails, and its failure callback (run in-process by
    ``airflow dags test``) posts one alert naming the night and why."""
    url, received, _ = webhook
    api_url = url.removesuffix("/hooks/hcp")
    env = {
        **os.environ,
        **sources_down(api_url, tmp_path),
        connections.env_var(settings.WAREHOUSE_CONN_ID): make_database("hcp_alerts"),
        "HCP_AIRFLOW_DB": "airflow_alerts",
        "HCP_LOCAL_DIR": str(tmp_path / "local"),
        "HCP_TASK_RETRIES": "0",  # a source that is down fails at once
        "PYTHONPATH": str(settings.PROJECT_ROOT / "plugins"),
        "AIRFLOW_CONN_HCP_ALERTS": json.dumps({"conn_type": "http", "host": url, "password": "s3"}),
    }
    make_database("airflow_alerts")  # Airflow's metadata, fresh
    env.pop("AIRFLOW_HOME", None)  # the command makes its own, as `make night` does
    result = subprocess.run([sys.executable, "-m", "hcp.cli", "night", "--date", NIGHT.isoformat()],
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode != 0 and "DagRun failed" in result.stderr, result.stdout[-2000:] + result.stderr[-2000:]
    log = (tmp_path / "local" / "logs" / f"hcp_nightly-{NIGHT}.log").read_text(errors="replace")
    assert "Callback failed" not in log, log[log.find("Callback failed"):][:3000]

    [(path, auth, payload)] = received
    assert path == "/hooks/hcp" and auth == "Bearer s3"
    assert payload["dag_id"] == "hcp_nightly" and payload["night"] == NIGHT.isoformat()
    assert payload["reason"] == "task_failure"
    assert {"pc.extract", "rectification.extract", "hotline.extract", "report"} <= set(payload["failed_tasks"])
    zh, en = payload["text"].splitlines()
    assert zh.startswith("好差评夜间任务失败") and f"{NIGHT} 夜" in zh and "有任务失败" in zh and "pc.extract" in zh
    assert en.startswith(f"hcp_nightly run {payload['run_id']} failed (night {NIGHT})") and "pc.extract" in en
