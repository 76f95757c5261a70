"""The failure notifier posts to a real webhook, and an alert that cannot be sent never hides the failure."""
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from hcp.alerts import RunAlert


@pytest.fixture
def webhook():
    received, status = [], {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers.get("Authorization"), json.loads(body)))
            self.send_response(status["code"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/hcp", received, status
    server.shutdown()


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
    assert payload["text"] == ("hcp_nightly run scheduled__2026-11-01 failed (night 2026-10-31): "
                               "run degraded: missing sources ['pc']")


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
