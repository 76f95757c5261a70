"""Nights run by Airflow's own scheduler, on Celery workers, with one source down.

Scheduler, dag-processor, api-server and a Celery worker run as separate processes over a Redis on
127.0.0.1 (the machine's own when one answers, else one started here from Debian's redis-server). Night 1:
the portal API's connection points at a port where nothing listens; the other sources land, the marts are
built from them, the run is recorded as degraded naming pc, and the dag-processor runs the failure callback,
which posts the alert to a webhook. Night 2: the connection is fixed the way an operator fixes it (in
Airflow's own store), and pc catches up from its watermark with no gap.
"""
import json
import shutil
import socket
import subprocess
import time

import psycopg2
import pytest

from hcp import connections, runtime, settings
from hcp.cluster import Cluster, execution_api_env
from hcp.simulator.demo import demo_sources
from tests.conftest import TEST_RATINGS_PER_DAY, free_port, query
from tests.test_alerts import webhook_receiver

RUN_TIMEOUT = 900


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    if redis_answers(6379):
        yield "redis://127.0.0.1:6379/11"
        return
    server = shutil.which("redis-server")
    assert server, "the Celery test needs Redis: start one on 127.0.0.1:6379 or install Debian's redis-server"
    port = free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while not redis_answers(port):
        assert time.time() < deadline and process.poll() is None, "redis-server did not start"
        time.sleep(0.2)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def cluster(make_database, pg_server, redis_url, demo_world, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scheduler")
    warehouse_value = make_database("hcp_scheduler")
    make_database("airflow_scheduler")
    server = {"host": pg_server.host, "port": pg_server.port, "user": "postgres"}
    runtime.create_databases({**server, "dbname": "postgres"}, ["hotline_scheduler"])
    api_port = free_port()
    metadata = f"postgres@{pg_server.host}:{pg_server.port}/airflow_scheduler"
    with (webhook_receiver() as (alerts_url, alerts, _),
          demo_sources(demo_world, tmp / "sources", TEST_RATINGS_PER_DAY, server, "hotline_scheduler") as conns):
        pc_value = conns.pop(connections.env_var("hcp_pc"))  # pc lives in Airflow's store: an operator fixes it there
        env = runtime.airflow_env(warehouse_value, {
            **conns,
            "AIRFLOW_HOME": str(tmp / "airflow"),
            "HCP_LOCAL_DIR": str(tmp / "local"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{metadata}",
            "AIRFLOW__CORE__EXECUTOR": "airflow.providers.celery.executors.celery_executor.CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": redis_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{metadata}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "21600",
            **execution_api_env(api_port),  # its schedule is manual: only the nights the test triggers
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "HCP_TASK_RETRIES": "0",  # a source that is down fails at once
            connections.env_var("hcp_alerts"): json.dumps({"conn_type": "http", "host": alerts_url}),
        })
        env.pop(connections.env_var("hcp_pc"), None)
        (tmp / "airflow").mkdir()
        c = Cluster(env, tmp, run_timeout=RUN_TIMEOUT)
        c.airflow("db", "migrate")
        c.airflow("pools", "set", settings.LOAD_POOL, "3", "sources loading into the warehouse")
        closed = free_port()  # nothing listens here: the portal is down
        c.airflow("connections", "add", "hcp_pc", "--conn-json",
                  json.dumps({**json.loads(pc_value), "host": f"http://127.0.0.1:{closed}"}))
        c.start("api-server", "api-server", "--port", str(api_port))
        c.start("scheduler", "scheduler")
        c.start("dag-processor", "dag-processor")
        c.start("celery-worker", "celery", "worker", "--concurrency", "4")
        try:
            c.wait_until_ready(api_port)
            conn = psycopg2.connect(**connections.postgres_kwargs(connections.parse("w", warehouse_value)))
            yield c, conn, pc_value, alerts
            conn.close()
        finally:
            c.stop()


def test_a_source_down_fails_alone_and_catches_up_the_next_night(cluster, demo_world):
    c, conn, pc_value, alerts = cluster
    pc_ratings = sum(1 for r in demo_world.ratings if r.channel == "pc")

    # night 1: the portal is down
    assert c.run_night("2026-10-30", "night_1") == "failed"  # Airflow shows it, and the failure callback fires
    [(status, failed)] = query(conn, "select status, failed_sources from audit.runs where run_id = 'night_1'")
    assert (status, failed) == ("degraded", ["pc"])
    channels = dict(query(conn, "select channel, count(*) from marts.fct_ratings group by 1"))
    assert "pc" not in channels and {"app", "hall", "hotline", "sms"} <= set(channels)
    assert query(conn, "select count(*) from audit.batches where source = 'pc' and status = 'succeeded'") == [(0,)]

    # night 2: an operator fixes the connection in Airflow; pc loads everything it missed
    c.airflow("connections", "delete", "hcp_pc")
    c.airflow("connections", "add", "hcp_pc", "--conn-json", pc_value)
    assert c.run_night("2026-10-31", "night_2") == "success"
    assert query(conn, "select status, failed_sources from audit.runs where run_id = 'night_2'") == [("succeeded", [])]
    [(landed,)] = query(conn, "select count(distinct evaluation_id) from raw.pc_evaluations")
    assert landed == pc_ratings  # no gap: every pc rating of both nights
    [(in_marts,)] = query(conn, "select count(*) from marts.fct_ratings where channel = 'pc'")
    assert in_marts == pc_ratings
    # a run's summary is in the warehouse as well as in the log
    [(summary, stages)] = query(conn, "select summary, stages from audit.runs where run_id = 'night_2'")
    assert "Rows per source and state" in summary and stages["dbt_build"] > 0

    # the failure callback of night 1 ran in the dag-processor and told the webhook, once; night 2 did not
    deadline = time.time() + 60
    while not alerts and time.time() < deadline:
        time.sleep(2)
    [(_, _, alert)] = alerts
    assert (alert["run_id"], alert["night"], alert["reason"]) == ("night_1", "2026-10-30", "task_failure")
    assert {"pc.extract", "report"} <= set(alert["failed_tasks"]) and "app.extract" not in alert["failed_tasks"]
    assert alert["text"].startswith("好差评夜间任务失败") and "pc.extract" in alert["text"]
