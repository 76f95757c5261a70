"""Nights run by Airflow's own scheduler, on Celery workers, with one source down, on the services
docker-compose.yml runs.

The compose's long-running services (api-server, scheduler, dag-processor, triggerer, a Celery worker) run here
as separate processes: each the command the image's entrypoint would run for it (tests/deploy/deployment.py),
with compose's own AIRFLOW_* settings, only its hosts replaced by this machine's PostgreSQL and Redis (the
machine's own Redis on 127.0.0.1 when one answers, else one started here from Debian's redis-server). airflow-init's
Airflow and Python commands prepare them, and each service must pass its compose health check. Night 1:
the portal API's connection points at a port where nothing listens; the other sources land, the marts are
built from them, the run is recorded as degraded naming pc, and the dag-processor runs the failure callback,
which posts the alert to a webhook. Night 2: the connection is fixed the way an operator fixes it (in
Airflow's own store), and pc catches up from its watermark with no gap.
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import requests
from airflow.utils.net import get_hostname
from cryptography.fernet import Fernet

from hcp import connections, settings
from hcp_dev import runtime
from hcp_dev.cluster import Cluster
from hcp_dev.simulator.demo import demo_sources
from tests.conftest import TEST_RATINGS_PER_DAY, free_port, query
from tests.deploy import deployment
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


# docker-compose.yml's services -> this test's: (host:port, databases or Redis db by compose's name -> the test's)
def compose_places(pg_server, redis_url: str, api_port: int) -> dict[str, tuple[str, dict[str, str]]]:
    redis = urlsplit(redis_url)
    return {
        "postgres": (f"{pg_server.host}:{pg_server.port}", {"airflow": "airflow_scheduler", "hcp": "hcp_scheduler"}),
        "redis": (redis.netloc, {"0": redis.path.strip("/")}),
        "airflow-apiserver": (f"127.0.0.1:{api_port}", {}),
    }


def relocate(value: str, places: dict[str, tuple[str, dict[str, str]]]) -> str:
    """A compose URL pointed at this test's server instead of compose's service, credentials kept."""
    parts = urlsplit(value)
    if "://" not in value or parts.hostname not in places:
        return value
    netloc, databases = places[parts.hostname]
    credentials = parts.netloc.rpartition("@")[0]
    name = parts.path.strip("/")
    path = f"/{databases[name]}" if name in databases else parts.path
    return urlunsplit((parts.scheme, f"{credentials}@{netloc}" if "@" in parts.netloc else netloc, path,
                       parts.query, parts.fragment))


def run_health_check(service: dict, env: dict[str, str], ports: dict[int, int]) -> subprocess.CompletedProcess:
    """A service's compose health check, its in-container ports (api 8080, scheduler health 8974) mapped to this
    machine's; curl through requests where the machine has no curl."""
    test = service["healthcheck"]["test"]
    for inside, outside in ports.items():
        test = [word.replace(f"localhost:{inside}", f"localhost:{outside}") for word in test]
    if test[0] == "CMD-SHELL":
        argv = ["sh", "-c", test[1]]
    elif test[1] == "curl" and not shutil.which("curl"):
        url = test[-1]
        try:
            ok = requests.get(url, timeout=10).ok
        except requests.RequestException:
            ok = False
        return subprocess.CompletedProcess(test, 0 if ok else 22, "", url)
    else:
        argv = test[1:]
    # A container's $HOSTNAME is its hostname and its FQDN both: Airflow records the FQDN for its jobs, Celery
    # names its worker by the hostname. A machine's two may differ.
    hostname = get_hostname() if "airflow jobs check" in test[-1] else socket.gethostname()
    return subprocess.run(argv, env={**env, "HOSTNAME": hostname}, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def cluster(make_database, pg_server, redis_url, demo_world, tmp_path_factory):
    """The services docker-compose.yml runs, as processes here: the same commands through the same entrypoint
    model as tests/deploy, with compose's AIRFLOW_* settings, its hosts replaced by compose_places."""
    tmp = tmp_path_factory.mktemp("scheduler")
    warehouse_value = make_database("hcp_scheduler")
    make_database("airflow_scheduler")
    server = {"host": pg_server.host, "port": pg_server.port, "user": "postgres"}
    runtime.create_databases({**server, "dbname": "postgres"}, ["hotline_scheduler"])
    api_port, health_port = free_port(), free_port()
    image = deployment.read_image()
    compose = deployment.load_compose({  # this test's .env
        "POSTGRES_USER": "postgres",  # the embedded server's superuser; it trusts local connections
        "POSTGRES_PASSWORD": "trusted-locally",
        "AIRFLOW_JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
        "HCP_DELIVERIES_DIR": str(tmp / "deliveries"),
        # the dashboard's services are not started here; compose needs their settings all the same
        "SUPERSET_SECRET_KEY": secrets.token_hex(16),
        "SUPERSET_ADMIN_PASSWORD": secrets.token_hex(8),
        "HCP_BI_PASSWORD": secrets.token_hex(8),
    })
    places = compose_places(pg_server, redis_url, api_port)
    from_compose = {k: relocate(v, places) for k, v in compose["x-airflow-common"]["environment"].items()}
    assert connections.parse("w", from_compose[runtime.WAREHOUSE_VAR]).schema == "hcp_scheduler"
    on_this_machine = {
        # in a container the api-server listens on 8080 and the scheduler's health server on 8974: here, free ports
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(health_port),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",  # two cores
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",  # pick the DAG up quickly
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # its schedule is manual: only the nights triggered
        "HCP_NIGHTLY_SCHEDULE": "manual",
        "HCP_TASK_RETRIES": "0",  # a source that is down fails at once
    }
    assert not set(on_this_machine) & set(from_compose), "the test must not override what compose sets"
    with (webhook_receiver() as (alerts_url, alerts, _),
          demo_sources(demo_world, tmp / "sources", TEST_RATINGS_PER_DAY, server, "hotline_scheduler") as conns):
        pc_value = conns.pop(connections.env_var("hcp_pc"))  # pc lives in Airflow's store: an operator fixes it there
        env = runtime.airflow_env(from_compose[runtime.WAREHOUSE_VAR], {
            **conns,
            "AIRFLOW_HOME": str(tmp / "airflow"),
            "HCP_LOCAL_DIR": str(tmp / "local"),
            **from_compose,
            **on_this_machine,
            connections.env_var("hcp_alerts"): json.dumps({"conn_type": "http", "host": alerts_url}),
        })
        env.pop(connections.env_var("hcp_pc"), None)
        # what the image sets, at the checkout's paths
        for key, value in image.env.items():
            assert env[key].split(os.pathsep)[0] == value.replace(deployment.OFFICIAL_AIRFLOW_HOME,
                                                                   str(settings.PROJECT_ROOT)), key
        (tmp / "airflow").mkdir()
        c = Cluster(env, tmp, run_timeout=RUN_TIMEOUT)
        # airflow-init's own Airflow and Python commands (its mkdir and chown are about volumes)
        init_script = deployment.executed(deployment.container_argv(compose["services"]["airflow-init"], image))[2]
        for command in deployment.script_commands(init_script):
            if command[0] == "airflow":
                c.airflow(*command[1:])
            elif command[0] == "python":
                result = subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, text=True)
                assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
        closed = free_port()  # nothing listens here: the portal is down
        c.airflow("connections", "add", "hcp_pc", "--conn-json",
                  json.dumps({**json.loads(pc_value), "host": f"http://127.0.0.1:{closed}"}))
        services = deployment.long_running(compose["services"])
        for name, service in services.items():
            executed = deployment.executed(deployment.container_argv(service, image))
            assert executed[0] == "airflow", f"{name} runs {executed}"
            c.start(name, *executed[1:])
        try:
            c.wait_until_ready(api_port)
            conn = psycopg2.connect(**connections.postgres_kwargs(connections.parse("w", warehouse_value)))
            yield c, conn, pc_value, alerts, services, {8080: api_port, 8974: health_port}
            conn.close()
        finally:
            c.stop()


def test_every_service_answers_its_compose_health_check(cluster):
    c, _, _, _, services, ports = cluster
    assert {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
            "airflow-worker"} <= set(services)
    for name, service in services.items():
        deadline = time.time() + 120
        while (result := run_health_check(service, c.env, ports)).returncode != 0:
            assert time.time() < deadline, f"{name} is unhealthy: {result.stdout[-1000:]}{result.stderr[-2000:]}"
            time.sleep(5)


def test_a_source_down_fails_alone_and_catches_up_the_next_night(cluster, demo_world):
    c, conn, pc_value, alerts, _, _ = cluster
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

    # the callbacks ran in the dag-processor and told the webhook once each: night 1 failed, night 2 is ready
    deadline = time.time() + 60
    while len(alerts) < 2 and time.time() < deadline:
        time.sleep(2)
    [(_, _, alert), (_, _, ready)] = alerts
    assert (ready["kind"], ready["run_id"], ready["night"], ready["status"]) == ("success", "night_2", "2026-10-31",
                                                                                "succeeded")
    assert (alert["run_id"], alert["night"], alert["reason"]) == ("night_1", "2026-10-30", "task_failure")
    assert {"pc.extract", "report"} <= set(alert["failed_tasks"]) and "app.extract" not in alert["failed_tasks"]
    assert alert["text"].startswith("好差评夜间任务失败") and "pc.extract" in alert["text"]
