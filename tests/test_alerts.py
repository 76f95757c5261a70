"""The night's alerts: their content read from a real warehouse, each format posted to a real HTTP receiver, mail
through a real SMTP receiver, and an alert that cannot be sent never hides the night's outcome.

The last test fails a night by `make night`'s path (``airflow dags test``), where Airflow hands the DAG's
failure callback a SerializedDAG, and checks that the alert still reaches the webhook.
"""
import base64
import email
import email.policy
import hashlib
import hmac
import json
import os
import socketserver
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, quote_plus, urlsplit

import psycopg2
import pytest

from hcp import alerts, connections, settings
from hcp.alerts import RunAlert, RunReadyAlert
from hcp.sources import SOURCES
from hcp_dev.cluster import free_port
from tests.conftest import NIGHT, query

ALERTS_VAR, MAIL_VAR = connections.env_var(alerts.ALERTS_CONN_ID), connections.env_var(alerts.MAIL_CONN_ID)
WAREHOUSE_VAR = connections.env_var(settings.WAREHOUSE_CONN_ID)
SIGNING_SECRET = "SEC0123456789abcdef0123456789abcdef"  # DingTalk's secrets start with SEC
ACCESS_TOKEN = "tok0a1b2c3d4e5f6"
ROBOT_OK = {"errcode": 0, "errmsg": "ok"}


@contextmanager
def webhook_receiver():
    """A real HTTP receiver on 127.0.0.1: (its URL, the (path with query, Authorization, JSON) of each POST, a
    dict whose "code" is the status it answers and "body", when set, the JSON it answers with). A GET finds
    nothing (404), so a source API aimed here fails at once."""
    received, status = [], {"code": 200, "body": None}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers.get("Authorization"), json.loads(body)))
            answer = json.dumps(status["body"]).encode() if status["body"] is not None else b""
            self.send_response(status["code"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def do_GET(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/hcp", received, status
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def smtp_receiver():
    """A real SMTP server on 127.0.0.1, just enough of RFC 5321 for smtplib: (its port, the (recipients, raw
    message bytes) of each mail)."""
    mails = []

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str):
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self):
            self.reply("220 hcp-test ESMTP")
            recipients, lines, in_data = [], [], False
            while line := self.rfile.readline():
                if in_data:
                    if line.rstrip(b"\r\n") == b".":
                        mails.append((recipients, b"".join(lines)))
                        recipients, lines, in_data = [], [], False
                        self.reply("250 OK queued")
                    else:
                        lines.append(line[1:] if line.startswith(b"..") else line)  # dot-stuffing undone
                    continue
                verb = line[:4].upper()
                if verb == b"EHLO":
                    self.reply("250-hcp-test")
                    self.reply("250 8BITMIME")
                elif verb == b"RCPT":
                    recipients.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                    self.reply("250 OK")
                elif verb == b"DATA":
                    in_data = True
                    self.reply("354 end data with <CR><LF>.<CR><LF>")
                elif verb == b"QUIT":
                    self.reply("221 bye")
                    return
                else:  # HELO, MAIL, RSET, NOOP
                    self.reply("250 OK")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield server.server_address[1], mails
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook():
    with webhook_receiver() as hook:
        yield hook


@pytest.fixture
def no_warehouse(monkeypatch):
    """The warehouse is down (nothing listens on its port): an alert says what its context gives."""
    monkeypatch.setenv(WAREHOUSE_VAR, json.dumps({"conn_type": "postgres", "host": "127.0.0.1",
                                                  "port": free_port(), "login": "nobody", "schema": "hcp"}))
    monkeypatch.delenv(MAIL_VAR, raising=False)


def alerts_connection(monkeypatch, host: str, password: str | None = None, **extra):
    monkeypatch.setenv(ALERTS_VAR, json.dumps({"conn_type": "http", "host": host, "password": password,
                                               "extra": extra}))


def context(reason="task_failure", run_id="scheduled__2026-11-01", night="2026-10-31"):
    dag_run = SimpleNamespace(dag_id="hcp_nightly", run_id=run_id, conf={"night": night})
    return {"dag_run": dag_run, "run_id": run_id, "reason": reason,
            "task_instance": SimpleNamespace(task_id="report"), "params": {}}


# --- the message, read from the demo night's warehouse ------------------------------------------------------

@pytest.fixture
def demo_warehouse(demo_run, monkeypatch):
    """The demo night's warehouse as ``hcp_warehouse``: (its connection, the run id of the demo's own run)."""
    _, conn, env, _ = demo_run
    monkeypatch.setenv(WAREHOUSE_VAR, env[WAREHOUSE_VAR])
    [(run_id,)] = query(conn, "select run_id from audit.runs order by started_at limit 1")
    return conn, run_id


def expected_rows_per_channel(conn, demo_world) -> dict[str, int]:
    """Per rating channel, the night's raw rows that were neither quarantined nor are still held, counted row by
    row; pc checked against the simulator's own ratings too (its API sends each rating once)."""
    tables = {name: source.raw_tables[0] for name, source in SOURCES.items() if source.is_channel}
    rows = {}
    for channel, table in tables.items():
        [(rows[channel],)] = query(conn, f"""
            select count(*) from {table} r join audit.batches b on b.batch_id = r._batch_id
            where b.night = %s
              and not exists (select 1 from audit.quarantine q where q.batch_id = r._batch_id
                              and q.source_page = r._source_page and q.line_no = r._line_no)
              and not exists (select 1 from audit.held h where h.batch_id = r._batch_id
                              and h.source_page = r._source_page and h.line_no = r._line_no
                              and h.released_at is null)""", NIGHT)
    [(pc_batches,)] = query(conn, "select count(*) from audit.batches where source = 'pc' and night = %s", NIGHT)
    if pc_batches == 1:  # the demo's night as it ran; a later run of it (test_end_to_end) re-reads a boundary row
        assert rows["pc"] == sum(1 for r in demo_world.ratings if r.channel == "pc")
    return rows


def expected_overdue(conn) -> int:
    """Bad reviews still open (with or without a work order) whose close deadline had passed by the end of the
    night: from the deadlines, not from the mart's own is_overdue flag."""
    [(count,)] = query(conn, "select count(*) from marts.fct_bad_reviews "
                             "where status in ('open', 'no_order') and close_due_date <= %s", NIGHT)
    return count


def test_the_ready_message_tells_the_night_its_status_rows_per_channel_and_overdue_bad_reviews(
        demo_warehouse, demo_world):
    conn, run_id = demo_warehouse
    rows, overdue = expected_rows_per_channel(conn, demo_world), expected_overdue(conn)
    [(closed_late,)] = query(conn, "select count(*) from marts.fct_bad_reviews where is_overdue and status = 'closed'")
    assert overdue > 0 and closed_late > 0  # the demo night has both: an open count must leave out the closed ones
    assert rows["sms"] < query(conn, "select sum(rows_landed) from audit.batches where source = 'sms' and night = %s",
                               NIGHT)[0][0]  # some replies were quarantined or held

    # the callback's context knows nothing but the run: the night comes from the run's record
    msg = alerts.message({"dag": SimpleNamespace(dag_id="hcp_nightly"), "run_id": run_id, "reason": "success"},
                         alerts.SUCCESS)

    assert (msg["kind"], msg["night"], msg["status"], msg["missing_sources"]) == ("success", "2026-10-31",
                                                                                 "succeeded", [])
    assert msg["rows_per_channel"] == rows and list(rows) == ["pc", "app", "hall", "hotline", "sms"]
    assert msg["overdue_bad_reviews"] == overdue and msg["failed_tasks"] == [] and msg["reason"] is None
    zh, en = msg["text"].splitlines()
    assert zh.startswith("好差评夜间任务完成：2026-10-31 夜，状态 成功，数据集市已更新；各渠道入库：")
    assert (f"政务服务网 {rows['pc']}、移动端 {rows['app']}、评价器 {rows['hall']}、12345热线 {rows['hotline']}、"
            f"短信 {rows['sms']}；逾期未办结差评 {overdue} 件（运行 {run_id}）") in zh
    assert en == (f"hcp_nightly run {run_id} done (night 2026-10-31): status succeeded, the marts are ready; "
                  f"rows per channel: pc {rows['pc']}, app {rows['app']}, hall {rows['hall']}, "
                  f"hotline {rows['hotline']}, sms {rows['sms']}; overdue open bad reviews: {overdue}")
    assert msg["title"] == "好差评夜间任务完成 2026-10-31 / Haochaping night 2026-10-31 done"


def test_the_failure_message_names_the_missing_source_its_run_recorded(demo_warehouse, demo_world):
    """A degraded run of the same night, recorded beside the demo's own (and removed after)."""
    conn, _ = demo_warehouse
    rows, overdue = expected_rows_per_channel(conn, demo_world), expected_overdue(conn)
    with conn.cursor() as cur:
        cur.execute("insert into audit.runs (run_id, night, status, failed_sources, started_at, summary) "
                    "values ('test_alerts_degraded', %s, 'degraded', '{pc}', now(), '')", (NIGHT,))
    conn.commit()
    try:
        # the context's night is what was asked; the record says what the run covered
        msg = alerts.message(context(run_id="test_alerts_degraded", night="2026-10-30"))
    finally:
        query(conn, "delete from audit.runs where run_id = 'test_alerts_degraded' returning 1")

    assert (msg["kind"], msg["night"], msg["status"], msg["missing_sources"]) == ("failure", "2026-10-31",
                                                                                 "degraded", ["pc"])
    assert msg["rows_per_channel"] == rows and msg["overdue_bad_reviews"] == overdue
    zh, en = msg["text"].splitlines()
    assert zh.startswith("好差评夜间任务失败：2026-10-31 夜，状态 降级，原因：有任务失败；缺失数据源：政务服务网(pc)；各渠道入库：")
    assert zh.endswith(f"逾期未办结差评 {overdue} 件（运行 test_alerts_degraded）")
    assert en.startswith("hcp_nightly run test_alerts_degraded failed (night 2026-10-31): status degraded, "
                         "reason: task_failure; missing sources: pc; rows per channel: pc ")


def test_the_demo_night_told_offices_its_marts_are_ready(demo_run):
    """The DAG's success callback ran at the end of the demo night (`airflow dags test`, a SerializedDAG) and
    logged the ready message without failing."""
    log = (Path(demo_run[2]["HCP_LOCAL_DIR"]) / "logs" / f"hcp_nightly-{NIGHT}.log").read_text(errors="replace")
    assert "Callback failed" not in log, log[log.find("Callback failed"):][:3000]
    assert f"好差评夜间任务完成：{NIGHT} 夜，状态 成功，数据集市已更新；各渠道入库：政务服务网 " in log


def test_without_the_warehouse_the_alert_says_what_its_context_gives(webhook, no_warehouse, monkeypatch, caplog):
    url, received, _ = webhook
    alerts_connection(monkeypatch, url, password="s3")
    RunAlert().notify(context())
    [(path, auth, payload)] = received
    assert path == "/hooks/hcp" and auth == "Bearer s3"
    assert (payload["night"], payload["run_id"], payload["reason"]) == ("2026-10-31", "scheduled__2026-11-01",
                                                                        "task_failure")
    assert payload["status"] is None and payload["rows_per_channel"] is None and payload["overdue_bad_reviews"] is None
    assert payload["text"].splitlines() == [
        "好差评夜间任务失败：2026-10-31 夜，原因：有任务失败（运行 scheduled__2026-11-01）",
        "hcp_nightly run scheduled__2026-11-01 failed (night 2026-10-31): reason: task_failure"]
    assert "could not read the run's record from the warehouse" in caplog.text


def test_without_any_target_the_alert_is_only_logged(no_warehouse, monkeypatch, caplog):
    monkeypatch.delenv(ALERTS_VAR, raising=False)
    RunAlert().notify(context(reason="run degraded: missing sources ['pc']"))
    assert "missing sources ['pc']" in caplog.text


# --- the formats, each posted to a real receiver ------------------------------------------------------------

MESSAGE = {"title": "好差评夜间任务完成 2026-10-31 / Haochaping night 2026-10-31 done",
           "text": "好差评夜间任务完成：2026-10-31 夜，状态 成功\nhcp_nightly run r1 done (night 2026-10-31): status succeeded",
           "kind": "success", "night": "2026-10-31", "status": "succeeded"}


def robot_url(url: str, query: str) -> str:
    return url.removesuffix("/hooks/hcp") + "/robot/send" + query


def test_a_dingtalk_robot_with_a_signing_secret_gets_a_signed_markdown_message(webhook, monkeypatch, caplog):
    url, received, answer = webhook
    answer["body"] = ROBOT_OK
    caplog.set_level("INFO", logger="hcp.alerts")
    alerts_connection(monkeypatch, robot_url(url, f"?access_token={ACCESS_TOKEN}"), password=SIGNING_SECRET,
                      format="dingtalk")
    before = int(time.time() * 1000)
    assert alerts.send(MESSAGE) is True
    after = int(time.time() * 1000)

    [(path, auth, body)] = received
    assert auth is None  # the secret signs; it is never sent
    parts = urlsplit(path)
    params = {k: v for k, [v] in parse_qs(parts.query).items()}
    assert parts.path == "/robot/send" and set(params) == {"access_token", "timestamp", "sign"}
    assert params["access_token"] == ACCESS_TOKEN and parts.query.startswith(f"access_token={ACCESS_TOKEN}&")
    timestamp = int(params["timestamp"])
    assert before <= timestamp <= after  # milliseconds
    # DingTalk's recipe: base64(HMAC-SHA256(key=secret, msg="timestamp\nsecret")), then URL-encoded
    expected = base64.b64encode(hmac.new(SIGNING_SECRET.encode(), f"{timestamp}\n{SIGNING_SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert params["sign"] == expected and f"sign={quote_plus(expected)}" in parts.query
    assert body == {"msgtype": "markdown", "markdown": {
        "title": MESSAGE["title"],
        "text": f"#### {MESSAGE['title']}\n\n" + MESSAGE["text"].replace("\n", "\n\n")}}
    assert "alert delivered to hcp_alerts (dingtalk, http://127.0.0.1:" in caplog.text
    assert ACCESS_TOKEN not in caplog.text and SIGNING_SECRET not in caplog.text and expected not in caplog.text


def test_a_dingtalk_robot_can_take_text_and_its_token_and_secret_from_the_extra(webhook, monkeypatch):
    url, received, answer = webhook
    answer["body"] = ROBOT_OK
    alerts_connection(monkeypatch, robot_url(url, ""), format="dingtalk", msgtype="text", access_token=ACCESS_TOKEN,
                      secret=SIGNING_SECRET)
    assert alerts.send(MESSAGE) is True
    [(path, _, body)] = received
    params = {k: v for k, [v] in parse_qs(urlsplit(path).query).items()}
    assert params["access_token"] == ACCESS_TOKEN and params["sign"] == alerts.dingtalk_sign(
        SIGNING_SECRET, int(params["timestamp"]))
    assert body == {"msgtype": "text", "text": {"content": MESSAGE["text"]}}


def test_a_dingtalk_robot_without_a_secret_gets_no_signature(webhook, monkeypatch):
    url, received, answer = webhook
    answer["body"] = ROBOT_OK
    alerts_connection(monkeypatch, robot_url(url, f"?access_token={ACCESS_TOKEN}"), format="dingtalk")
    assert alerts.send(MESSAGE) is True
    [(path, _, _)] = received
    assert path == f"/robot/send?access_token={ACCESS_TOKEN}"


@pytest.mark.parametrize("fmt, refusal", [("dingtalk", {"errcode": 310000, "errmsg": "sign not match"}),
                                          ("wecom", {"errcode": 93000, "errmsg": "invalid webhook url"})])
def test_a_robot_that_answers_with_an_errcode_did_not_deliver(webhook, monkeypatch, caplog, fmt, refusal):
    url, received, answer = webhook
    answer["body"] = refusal  # HTTP 200 all the same, as the robots answer
    token = "access_token" if fmt == "dingtalk" else "key"
    alerts_connection(monkeypatch, robot_url(url, f"?{token}={ACCESS_TOKEN}"), password=SIGNING_SECRET, format=fmt)
    assert alerts.send(MESSAGE) is False
    assert len(received) == 1
    assert f"could not deliver the alert to hcp_alerts (http://127.0.0.1:{urlsplit(url).port}/robot/send?…): " \
           f"errcode {refusal['errcode']}: {refusal['errmsg']}" in caplog.text
    assert "alert delivered" not in caplog.text and ACCESS_TOKEN not in caplog.text


def test_a_wecom_robot_gets_markdown_with_its_key_kept_in_the_url(webhook, monkeypatch):
    url, received, answer = webhook
    answer["body"] = ROBOT_OK
    alerts_connection(monkeypatch, robot_url(url, "?key=693a91f6-7xxx"), format="wecom")
    assert alerts.send(MESSAGE) is True
    [(path, auth, body)] = received
    assert path == "/robot/send?key=693a91f6-7xxx" and auth is None
    assert body == {"msgtype": "markdown", "markdown": {
        "content": f"#### {MESSAGE['title']}\n\n" + MESSAGE["text"].replace("\n", "\n\n")}}


def test_a_wecom_robot_gets_text_cut_to_what_it_accepts(webhook, monkeypatch):
    url, received, answer = webhook
    answer["body"] = ROBOT_OK
    alerts_connection(monkeypatch, robot_url(url, "?key=k"), format="wecom", msgtype="text")
    long_message = {**MESSAGE, "text": "逾期" * 1000}  # 6,000 bytes of UTF-8; WeCom takes 4,096
    assert alerts.send(long_message) is True
    [(_, _, body)] = received
    content = body["text"]["content"]
    assert body["msgtype"] == "text" and len(content.encode()) <= 4096 and content.endswith("…")
    assert content.startswith("逾期逾期")


def test_an_unknown_format_is_logged_and_nothing_is_sent(webhook, monkeypatch, caplog):
    url, received, _ = webhook
    alerts_connection(monkeypatch, url, format="slack")
    assert alerts.send(MESSAGE) is False
    assert received == []
    assert "unknown format 'slack' in the extra of connection hcp_alerts (one of generic, dingtalk, wecom)" \
           in caplog.text


def test_a_webhook_that_fails_does_not_raise(webhook, no_warehouse, monkeypatch, caplog):
    url, received, status = webhook
    status["code"] = 500
    alerts_connection(monkeypatch, url)
    RunAlert().notify(context())
    assert len(received) == 1 and "could not deliver the alert to hcp_alerts" in caplog.text and "HTTP 500" in caplog.text


def test_an_alert_connection_that_cannot_be_read_is_logged_without_its_text(no_warehouse, monkeypatch, caplog):
    monkeypatch.setenv(ALERTS_VAR, '{"conn_type": "http", "host": "http://x", "password": "pw-in-broken-json"')
    RunAlert().notify(context())  # no raise
    assert "could not read the alert connection hcp_alerts: JSONDecodeError" in caplog.text
    assert "pw-in-broken-json" not in caplog.text


def test_a_robot_that_is_down_is_logged_without_its_token(no_warehouse, monkeypatch, caplog):
    down = f"http://127.0.0.1:{free_port()}/robot/send?access_token={ACCESS_TOKEN}"
    alerts_connection(monkeypatch, down, password=SIGNING_SECRET, format="dingtalk")
    RunReadyAlert().notify(context(reason="success"))  # no raise
    assert "could not deliver the alert to hcp_alerts" in caplog.text and "ConnectionError" in caplog.text
    assert ACCESS_TOKEN not in caplog.text and SIGNING_SECRET not in caplog.text
    assert "sign=" not in caplog.text.replace("sign=***", "")


# --- mail, through Airflow's SMTP notifier ------------------------------------------------------------------

def test_the_alert_is_mailed_in_chinese_through_airflows_smtp_notifier(no_warehouse, monkeypatch):
    monkeypatch.delenv(ALERTS_VAR, raising=False)
    with smtp_receiver() as (port, mails):
        monkeypatch.setenv(MAIL_VAR, json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": port,
            "extra": {"from_email": "hcp@example.gov.cn", "to": "office@example.gov.cn; duty@example.gov.cn",
                      "disable_ssl": True, "disable_tls": True, "retry_limit": 0, "timeout": 10}}))
        RunAlert().notify(context())
    [(recipients, raw)] = mails
    assert recipients == ["office@example.gov.cn", "duty@example.gov.cn"]
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    # the subject travels as an RFC 2047 encoded word; decoded, it is the Chinese title
    assert "=?utf-8?" in raw.decode("ascii").split("Subject:", 1)[1].splitlines()[0].lower()
    assert mail["Subject"] == "好差评夜间任务失败 2026-10-31 / Haochaping night 2026-10-31 failed"
    assert mail["From"] == "hcp@example.gov.cn"
    body = mail.get_body(("html",)).get_content()
    assert "<p>好差评夜间任务失败：2026-10-31 夜，原因：有任务失败（运行 scheduled__2026-11-01）</p>" in body
    assert "<p>hcp_nightly run scheduled__2026-11-01 failed (night 2026-10-31): reason: task_failure</p>" in body


def test_a_mail_server_that_is_down_does_not_raise(no_warehouse, monkeypatch, caplog):
    monkeypatch.delenv(ALERTS_VAR, raising=False)
    monkeypatch.setenv(MAIL_VAR, json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": free_port(), "password": "mail-secret-pw",
        "extra": {"from_email": "hcp@example.gov.cn", "to": "office@example.gov.cn", "disable_ssl": True,
                  "disable_tls": True, "retry_limit": 0, "timeout": 5}}))
    RunReadyAlert().notify(context(reason="success"))
    assert "could not mail the alert through hcp_alerts_mail" in caplog.text and "mail-secret-pw" not in caplog.text


# --- a night that fails for real ----------------------------------------------------------------------------

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
    ``airflow dags test``) posts one alert naming the night, why, and what the run recorded."""
    url, received, _ = webhook
    api_url = url.removesuffix("/hooks/hcp")
    warehouse_value = make_database("hcp_alerts")
    env = {
        **os.environ,
        **sources_down(api_url, tmp_path),
        WAREHOUSE_VAR: warehouse_value,
        "HCP_AIRFLOW_DB": "airflow_alerts",
        "HCP_LOCAL_DIR": str(tmp_path / "local"),
        "HCP_TASK_RETRIES": "0",  # a source that is down fails at once
        "PYTHONPATH": str(settings.PROJECT_ROOT / "plugins"),
        ALERTS_VAR: json.dumps({"conn_type": "http", "host": url, "password": "s3"}),
    }
    make_database("airflow_alerts")  # Airflow's metadata, fresh
    env.pop("AIRFLOW_HOME", None)  # the command makes its own, as `make night` does
    env.pop(MAIL_VAR, None)
    result = subprocess.run([sys.executable, "-m", "hcp_dev.cli", "night", "--date", NIGHT.isoformat()],
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode != 0 and "DagRun failed" in result.stderr, result.stdout[-2000:] + result.stderr[-2000:]
    log = (tmp_path / "local" / "logs" / f"hcp_nightly-{NIGHT}.log").read_text(errors="replace")
    assert "Callback failed" not in log, log[log.find("Callback failed"):][:3000]

    [(path, auth, payload)] = received
    assert path == "/hooks/hcp" and auth == "Bearer s3"
    assert payload["dag_id"] == "hcp_nightly" and payload["night"] == NIGHT.isoformat()
    assert payload["kind"] == "failure" and payload["reason"] == "task_failure"
    assert {"pc.extract", "rectification.extract", "hotline.extract", "report"} <= set(payload["failed_tasks"])
    conn = psycopg2.connect(**connections.postgres_kwargs(connections.parse("w", warehouse_value)))
    try:
        [(status, failed_sources)] = query(conn, "select status, failed_sources from audit.runs where run_id = %s",
                                           payload["run_id"])
    finally:
        conn.close()
    assert payload["status"] == status and payload["missing_sources"] == failed_sources
    assert {"pc", "rectification", "hotline"} <= set(failed_sources)
    assert payload["rows_per_channel"] == {c: 0 for c, s in SOURCES.items() if s.is_channel}
    zh, en = payload["text"].splitlines()
    assert zh.startswith(f"好差评夜间任务失败：{NIGHT} 夜，状态 ") and "原因：有任务失败" in zh and "pc.extract" in zh
    assert "缺失数据源：政务服务网(pc)、" in zh and "12345热线(hotline)" in zh and "各渠道入库：政务服务网 0、" in zh
    assert en.startswith(f"hcp_nightly run {payload['run_id']} failed (night {NIGHT}): status {status}")
    assert "pc.extract" in en
