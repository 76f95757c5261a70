"""Telling offices how each night went, through Airflow's notifier mechanism.

``RunAlert`` is hcp_nightly's failure callback; ``RunReadyAlert`` its success callback (the marts are ready).
Both always log the message, then send it to whichever targets a deployment has configured:

- the Airflow connection ``hcp_alerts`` (type http, JSON form): the webhook's URL in ``host``, its query string
  kept as the chat app hands it out (``https://oapi.dingtalk.com/robot/send?access_token=...``). Its extra:

  ``format``   ``generic`` (default): POST the message's fields as JSON (``text``, ``title``, ``kind``,
               ``dag_id``, ``run_id``, ``task_id``, ``night``, ``status``, ``reason``, ``failed_tasks``,
               ``missing_sources``, ``rows_per_channel``, ``overdue_bad_reviews``); the password, if any, goes
               as a Bearer token.
               ``dingtalk``: a DingTalk custom robot (钉钉自定义机器人). With a signing secret (加签) the URL
               gets ``timestamp`` (ms) and ``sign`` = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")),
               URL-encoded, as DingTalk documents it. The secret is the connection's password (Airflow masks
               it), or extra ``secret`` when the password is empty. A robot secured by keyword (自定义关键词)
               can use "好差评": every message holds it.
               ``wecom``: a WeCom group robot (企业微信群机器人); its ``key`` is in the URL.
  ``msgtype``  ``markdown`` (default) or ``text``, for dingtalk and wecom.
  ``access_token`` (dingtalk) / ``key`` (wecom): optional; added to the URL when the host does not carry it,
               so the token sits in a field Airflow masks rather than in the host.

  Its other extras are those of any http connection (``verify``, ``proxies``, ``timeout``: hcp.connections).
  DingTalk and WeCom answer HTTP 200 with ``{"errcode": ..., "errmsg": ...}``: a non-zero errcode is a message
  not delivered, logged as such. An unknown format or msgtype is logged as an error and nothing is sent there.
- the Airflow connection ``hcp_alerts_mail`` (type smtp), by Airflow's ``SmtpNotifier``: host, port, login and
  password as the SMTP provider reads them (and its extras ``disable_ssl``, ``disable_tls``, ``timeout``,
  ``retry_limit``), plus extra ``from_email`` (the sender) and ``to`` (addresses separated by , or ;).

A send that fails is logged and never raises out of the callback; logs show URLs without their query string
and no secret.

The message (``message``) reads in Chinese, then in English: the night, the run's status, the sources missing,
the rows each rating channel brought into the warehouse that night, the bad reviews overdue and still open as
of the night, from the run's record in the warehouse (``audit.runs``, which the report task writes;
``audit.batches``; ``marts.fct_bad_reviews``), plus what the callback's context tells (the reason, the failed
tasks). When the warehouse cannot be read it still goes out with what the context gives.
"""
from __future__ import annotations

import base64
import csv
import functools
import hashlib
import hmac
import html
import logging
import time
from contextlib import closing
from datetime import date
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import requests
from airflow.sdk import BaseNotifier

from hcp import connections, nightly, settings, summary, warehouse
from hcp.runs import STATUS_ZH
from hcp.sources import SOURCES

log = logging.getLogger(__name__)
ALERTS_CONN_ID = "hcp_alerts"
MAIL_CONN_ID = "hcp_alerts_mail"
FORMATS = ("generic", "dingtalk", "wecom")
# extras of hcp_alerts read here; the rest configure its HTTP session as for any http connection
ALERT_EXTRAS = frozenset({"format", "msgtype", "secret", "access_token", "key"})
MSGTYPES = ("markdown", "text")
# What each robot accepts in one message (bytes of UTF-8): longer content is cut rather than refused
ROBOT_MAX_BYTES = {"dingtalk": 20000, "wecom": 4096}
FAILURE, SUCCESS = "failure", "success"
# Airflow's reasons for failing a run (DagRun.update_state, the scheduler's dagrun_timeout), in Chinese
REASONS_ZH = {"task_failure": "有任务失败", "all_tasks_deadlocked": "任务互相阻塞，无法继续", "timed_out": "运行超时"}
CHANNELS_SEED = settings.DBT_PROJECT_DIR / "seeds" / "channels.csv"


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


@functools.cache
def channel_names_zh() -> dict[str, str]:
    """Channel code -> its Chinese name, from the dbt seed the marts' dim_channels is built from."""
    try:
        with open(CHANNELS_SEED, encoding="utf-8", newline="") as seed:
            return {row["channel"]: row["channel_name_zh"] for row in csv.DictReader(seed)}
    except (OSError, KeyError) as exc:  # the codes say it too
        log.warning("could not read the channel names from %s: %s", CHANNELS_SEED, exc)
        return {}


def run_record(run_id: str | None, night: str | None) -> dict:
    """What the warehouse says of the run, as far as it can be read: ``night`` and ``status`` and
    ``missing_sources`` (its audit.runs row), ``rows_per_channel`` (rows that passed validation into the warehouse
    that night, per rating channel), ``overdue_bad_reviews`` (overdue and still open as of the night; only when
    marts.fct_bad_reviews is as of that night). Keys it could not read are absent."""
    record: dict = {}
    try:
        # short timeouts: a warehouse that hangs must not hold the alert back (set, not passed as libpq
        # options, which would replace any the connection's extra gives)
        with closing(warehouse.connect(connect_timeout=10)) as conn, conn.cursor() as cur:
            cur.execute("set statement_timeout = '20s'")
            if run_id:
                cur.execute("select night, status, failed_sources from audit.runs where run_id = %s", (run_id,))
                row = cur.fetchone()
                if row:
                    record.update(night=row[0].isoformat(), status=row[1], missing_sources=list(row[2]))
            night = record.get("night") or night
            if not night:
                return record
            night_date = date.fromisoformat(night)
            rows = summary.rows_per_source(conn, night_date)
            # (source, batches, failed, read, landed, passed, quarantined, held)
            record["rows_per_channel"] = {row[0]: int(row[5]) for row in rows if row[0] in summary.RATING_CHANNELS}
            if summary.built(conn, "marts.fct_bad_reviews"):
                cur.execute("select count(*) filter (where is_overdue and status in ('open', 'no_order')), "
                            "max(as_of_night) from marts.fct_bad_reviews")
                overdue, as_of = cur.fetchone()
                if as_of is None or as_of == night_date:  # built for another night: its count is not this one's
                    record["overdue_bad_reviews"] = overdue
    except Exception as exc:  # best effort: the alert still goes out with what the context gives
        log.warning("could not read the run's record from the warehouse: %s", exc)
    return record


def source_zh(name: str) -> str:
    zh = channel_names_zh().get(name)
    return f"{zh}({name})" if zh else name


def message(context, kind: str = FAILURE) -> dict:
    """The night's message for offices: a title, the text (Chinese line, then English line) and its fields, from
    the run's record in the warehouse and the callback's context. kind: FAILURE or SUCCESS."""
    dag_run = context.get("dag_run")
    dag_id = getattr(dag_run, "dag_id", None) or getattr(context.get("dag"), "dag_id", None) or "hcp_nightly"
    run_id = context.get("run_id") or getattr(dag_run, "run_id", None)
    ti = context.get("task_instance") or context.get("ti")
    succeeded = kind == SUCCESS
    reason = None if succeeded else str(context.get("reason") or context.get("exception") or "a task failed")
    failed = [] if succeeded else failed_tasks(dag_id, run_id)
    asked_night = night_of(context)
    record = run_record(run_id, asked_night)
    night = record.get("night") or asked_night
    # a run that succeeded passed its report, which succeeds only on a 'succeeded' verdict
    status = record.get("status") or ("succeeded" if succeeded else None)
    missing = record.get("missing_sources")
    if missing is None:  # no record: the sources whose tasks failed are missing at least
        missing = sorted({t.split(".")[0] for t in failed if t.split(".")[0] in SOURCES})
    rows = record.get("rows_per_channel")
    overdue = record.get("overdue_bad_reviews")
    names = channel_names_zh()

    first_zh = [f"{night} 夜"] if night else []
    first_en = []
    if status:
        first_zh.append(f"状态 {STATUS_ZH.get(status, status)}")
        first_en.append(f"status {status}")
    first_zh.append("数据集市已更新" if succeeded else f"原因：{REASONS_ZH.get(reason, reason)}")
    first_en.append("the marts are ready" if succeeded else f"reason: {reason}")
    zh, en = ["，".join(first_zh)], [", ".join(first_en)]
    if missing:
        zh.append(f"缺失数据源：{'、'.join(map(source_zh, missing))}")
        en.append(f"missing sources: {', '.join(missing)}")
    if failed:
        zh.append(f"失败的任务：{'、'.join(failed)}")
        en.append(f"failed tasks: {', '.join(failed)}")
    if rows is not None:
        zh.append("各渠道入库：" + "、".join(f"{names.get(c, c)} {n}" for c, n in rows.items()))
        en.append("rows per channel: " + ", ".join(f"{c} {n}" for c, n in rows.items()))
    if overdue is not None:
        zh.append(f"逾期未办结差评 {overdue} 件")
        en.append(f"overdue open bad reviews: {overdue}")

    head_zh = "好差评夜间任务完成" if succeeded else "好差评夜间任务失败"
    verb = "done" if succeeded else "failed"
    text_zh = f"{head_zh}：{'；'.join(zh)}（运行 {run_id}）"
    text_en = f"{dag_id} run {run_id} {verb}" + (f" (night {night})" if night else "") + f": {'; '.join(en)}"
    on_night = f" {night}" if night else ""
    title = f"{head_zh}{on_night} / Haochaping night{on_night} {verb}"
    return {"title": title, "text": f"{text_zh}\n{text_en}", "kind": kind, "dag_id": dag_id, "run_id": run_id,
            "task_id": getattr(ti, "task_id", None), "night": night, "status": status, "reason": reason,
            "failed_tasks": failed, "missing_sources": missing, "rows_per_channel": rows,
            "overdue_bad_reviews": overdue}


# --- where the message goes ---------------------------------------------------------------------------------

class AlertConfigError(ValueError):
    """The alert connection asks for something this module does not know: logged, nothing sent there."""


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature (加签): base64 of HMAC-SHA256 keyed by the secret over "timestamp\\nsecret";
    the caller URL-encodes it into the query."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def with_query(url: str, params: dict[str, str]) -> str:
    """url with params appended to the query it already has (kept as it is)."""
    if not params:
        return url
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


def redact_url(url: str) -> str:
    """A URL fit for a log: no user info, no query string (tokens, keys and signatures live there)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "…" if parts.query else "", ""))


def scrub(text: str, url: str, secrets: list[str | None]) -> str:
    """text (an error's message, an answer) without the URL's query values nor the secrets, in any spelling."""
    values = [v for _, v in parse_qsl(urlsplit(url).query)] + [s for s in secrets if s]
    for value in sorted(set(values), key=len, reverse=True):
        if len(value) < 4:  # a short value (msgtype=1) is no secret, and replacing it would garble the text
            continue
        for spelling in {value, quote_plus(value), quote(value, safe="")}:
            text = text.replace(spelling, "***")
    return text


def clip(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= max_bytes else data[:max_bytes - 3].decode("utf-8", "ignore") + "…"


def robot_body(msg: dict, fmt: str, msgtype: str) -> dict:
    plain = clip(msg["text"], ROBOT_MAX_BYTES[fmt])
    if msgtype == "text":
        return {"msgtype": "text", "text": {"content": plain}}
    markdown = clip(f"#### {msg['title']}\n\n" + msg["text"].replace("\n", "\n\n"), ROBOT_MAX_BYTES[fmt])
    if fmt == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": msg["title"], "text": markdown}}
    return {"msgtype": "markdown", "markdown": {"content": markdown}}


def webhook_request(conn, msg: dict) -> tuple[str, dict, dict, str, list]:
    """(url, JSON body, headers, format, secrets) of the POST the ``hcp_alerts`` connection asks for."""
    extra = conn.extra_dejson
    fmt = str(extra.get("format") or "generic").lower()
    if fmt not in FORMATS:
        raise AlertConfigError(f"unknown format {fmt!r} in the extra of connection {ALERTS_CONN_ID} "
                               f"(one of {', '.join(FORMATS)})")
    url = connections.http_base_url(conn)
    if fmt == "generic":
        headers = {"Authorization": f"Bearer {conn.password}"} if conn.password else {}
        return url, msg, headers, fmt, [conn.password]
    msgtype = str(extra.get("msgtype") or "markdown").lower()
    if msgtype not in MSGTYPES:
        raise AlertConfigError(f"unknown msgtype {msgtype!r} in the extra of connection {ALERTS_CONN_ID} "
                               f"(one of {', '.join(MSGTYPES)})")
    query = dict(parse_qsl(urlsplit(url).query))
    token_param = "access_token" if fmt == "dingtalk" else "key"
    params = {token_param: extra[token_param]} if extra.get(token_param) and token_param not in query else {}
    secret = (conn.password or extra.get("secret")) if fmt == "dingtalk" else None
    if secret:
        timestamp = int(time.time() * 1000)
        params |= {"timestamp": str(timestamp), "sign": dingtalk_sign(secret, timestamp)}
    return with_query(url, params), robot_body(msg, fmt, msgtype), {}, fmt, [secret, extra.get(token_param)]


def target(conn_id: str):
    """The connection of an alert target, or None when there is none or it cannot be read (logged)."""
    try:
        conn = connections.get_connection(conn_id)
        conn.extra_dejson  # noqa: B018 - an extra that is not JSON shows here, not halfway through a send
        return conn
    except connections.MissingConnection:
        return None
    except Exception as exc:  # its text may quote the connection, secrets and all: the type says enough
        log.error("could not read the alert connection %s: %s", conn_id, type(exc).__name__)
        return None


def send(msg: dict) -> bool:
    """POST the message to the ``hcp_alerts`` connection in its format, if there is one; True when delivered.
    Logs why it was not, never raises."""
    conn = target(ALERTS_CONN_ID)
    if conn is None:
        return False
    url, secrets = "", []
    try:
        url, body, headers, fmt, secrets = webhook_request(conn, msg)
        # the connection's verify (a private CA), proxies and timeout, as for the sources
        session = connections.http_session(conn, own_extras=ALERT_EXTRAS)
        response = session.post(url, json=body, headers=headers, timeout=session.timeout or 10)
        problem = refusal(response, fmt)
    except AlertConfigError as exc:
        log.error("could not deliver the alert to %s: %s", ALERTS_CONN_ID, exc)
        return False
    except Exception as exc:  # an alert that cannot be sent must not hide the night's outcome
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        log.error("could not deliver the alert to %s (%s): %s", ALERTS_CONN_ID, redact_url(url),
                  scrub(problem, url, secrets))
        return False
    log.info("alert delivered to %s (%s, %s)", ALERTS_CONN_ID, fmt, redact_url(url))
    return True


def refusal(response: requests.Response, fmt: str) -> str | None:
    """Why the receiver did not take the message, or None when it did. The robots answer HTTP 200 with a
    non-zero errcode when they refuse (a bad signature, an unknown key, a keyword missing)."""
    if response.status_code >= 400:
        return f"HTTP {response.status_code}"
    if fmt == "generic":
        return None
    try:
        answer = response.json()
    except ValueError:
        return f"HTTP {response.status_code} with an answer that is not JSON: {response.text[:200]!r}"
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    if errcode is None or str(errcode) != "0":
        return f"errcode {errcode}: {answer.get('errmsg') if isinstance(answer, dict) else answer}"
    return None


def mail_html(msg: dict) -> str:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in msg["text"].splitlines())
    return f"<html><body>{paragraphs}</body></html>"


def send_mail(msg: dict, context) -> bool:
    """Mail the message through Airflow's SmtpNotifier when the ``hcp_alerts_mail`` connection exists; True when
    the SMTP server took it. Logs why not, never raises."""
    conn = target(MAIL_CONN_ID)
    if conn is None:
        return False
    extra = conn.extra_dejson
    to, from_email = extra.get("to"), extra.get("from_email")
    if not to or not from_email:
        log.error("could not mail the alert: connection %s needs extra \"to\" and \"from_email\"", MAIL_CONN_ID)
        return False
    try:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        # everything given, nothing left to template: notify() renders nothing, so a SerializedDAG does not matter
        SmtpNotifier(to=to, from_email=from_email, subject=msg["title"], html_content=mail_html(msg),
                     smtp_conn_id=MAIL_CONN_ID).notify(context)
    except Exception as exc:
        log.error("could not mail the alert through %s: %s", MAIL_CONN_ID,
                  scrub(f"{type(exc).__name__}: {exc}", "", [conn.password]))
        return False
    log.info("alert mailed through %s to %s", MAIL_CONN_ID, to)
    return True


class RunAlert(BaseNotifier):
    """Failure callback of hcp_nightly: logs the failure and sends it to the configured targets."""

    kind = FAILURE

    def render_template_fields(self, context, jinja_env=None) -> None:
        # Nothing here is templated. BaseNotifier would still ask context["dag"] for a Jinja environment,
        # and `airflow dags test` passes a SerializedDAG, which has none (AttributeError, no alert).
        if self.template_fields:
            super().render_template_fields(context, jinja_env)

    def notify(self, context) -> None:
        try:
            msg = message(context, self.kind)
        except Exception:  # a message that cannot be built must not fail the callback
            log.exception("could not build the %s alert", self.kind)
            return
        (log.error if self.kind == FAILURE else log.info)("%s", msg["text"])
        send(msg)
        send_mail(msg, context)


class RunReadyAlert(RunAlert):
    """Success callback of hcp_nightly: the night's marts are ready; same message, same targets."""

    kind = SUCCESS
