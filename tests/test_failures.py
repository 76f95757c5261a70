"""Which failures are retried: judged on real errors from a real PostgreSQL and a real HTTP server."""
import json
import os
import subprocess
import sys
import threading

import psycopg2
import pytest
import requests
from airflow.sdk import RetryAction
from airflow.sdk.exceptions import AirflowFailException

from hcp import connections, failures, settings
from hcp.http_api import PagedClient, SourceError
from hcp_dev import runtime
from hcp_dev.cluster import free_port
from hcp_dev.simulator.http_server import ApiServer, PagedApi

TOKEN = "failures-token"


@pytest.fixture(scope="module")
def database(make_database):
    return connections.postgres_kwargs(connections.parse("w", make_database("failures")))


def error_of(kwargs, *statements, autocommit=False):
    """The exception the server raises for the last statement."""
    conn = psycopg2.connect(**kwargs)
    conn.autocommit = autocommit
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    except psycopg2.Error as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError("no error")


@pytest.mark.parametrize("sql, sqlstate", [
    ("select undefined_fn()", "42883"),
    ("selec 1", "42601"),
    ("select * from no_such_table", "42P01"),
    ("select 1 / 0", "22012"),
    ("select 'x'::int", "22P02"),
    (["create temp table t (id int primary key)", "insert into t values (1), (1)"], "23505"),
    ("do $$ begin raise exception 'contract violated'; end $$", "P0001"),
], ids=["undefined-function", "syntax", "undefined-table", "division-by-zero", "bad-cast", "unique", "raise"])
def test_errors_of_the_sql_itself_are_not_transient(database, sql, sqlstate):
    exc = error_of(database, *([sql] if isinstance(sql, str) else sql))
    assert exc.pgcode == sqlstate
    assert not failures.is_transient(exc)


def test_a_server_that_is_not_there_is_transient():
    with pytest.raises(psycopg2.OperationalError) as refused:
        psycopg2.connect(host="127.0.0.1", port=free_port(), user="x", dbname="x", connect_timeout=5)
    assert failures.is_transient(refused.value)


def test_a_connection_the_server_terminated_is_transient(database):
    victim = psycopg2.connect(**database)
    with victim.cursor() as cur:
        cur.execute("select pg_backend_pid()")
        [pid] = cur.fetchone()
    admin = psycopg2.connect(**database)
    with admin.cursor() as cur:
        cur.execute("select pg_terminate_backend(%s)", (pid,))
    admin.close()
    with pytest.raises(psycopg2.Error) as terminated, victim.cursor() as cur:
        cur.execute("select 1")
    victim.close()
    assert failures.is_transient(terminated.value), (terminated.value.pgcode, terminated.value)


def test_deadlocks_and_locks_not_available_are_transient(database):
    setup = psycopg2.connect(**database)
    with setup.cursor() as cur:
        cur.execute("drop table if exists locks; create table locks (id int primary key); "
                    "insert into locks values (1), (2)")
    setup.commit()
    setup.close()
    a, b = psycopg2.connect(**database), psycopg2.connect(**database)
    try:
        with a.cursor() as ca, b.cursor() as cb:
            ca.execute("select * from locks where id = 1 for update")
            cb.execute("select * from locks where id = 2 for update")
            with pytest.raises(psycopg2.errors.LockNotAvailable) as busy:
                cb.execute("savepoint s; select * from locks where id = 1 for update nowait")
            assert failures.is_transient(busy.value)
            cb.execute("rollback to savepoint s")

            errors = []

            def a_takes_2():
                try:
                    ca.execute("select * from locks where id = 2 for update")
                except psycopg2.Error as exc:
                    errors.append(exc)
            waiting = threading.Thread(target=a_takes_2)
            waiting.start()
            try:
                cb.execute("select pg_sleep(0.3); select * from locks where id = 1 for update")
            except psycopg2.Error as exc:
                errors.append(exc)
                b.rollback()  # let a through
            waiting.join(30)
        [deadlock] = errors
        assert deadlock.pgcode == "40P01" and failures.is_transient(deadlock)
    finally:
        a.close()
        b.close()


@pytest.fixture
def api():
    api = PagedApi("/api/items", [{"t": "1"}], since_key=lambda i: i["t"], parse_since=str, token=TOKEN)
    with ApiServer(api) as server:
        yield api, server


def get(server, token=TOKEN, **params):
    return requests.get(server.base_url + "/api/items", params=params, headers={"Authorization": f"Bearer {token}"},
                        timeout=5)


def http_error(response):
    with pytest.raises(requests.HTTPError) as raised:
        response.raise_for_status()
    return raised.value


def test_http_429_and_503_are_transient_400_and_401_are_not(api):
    source, server = api
    source.fail_next(429, retry_after=1)
    source.fail_next(503)
    assert failures.is_transient(http_error(get(server)))
    assert failures.is_transient(http_error(get(server)))
    assert not failures.is_transient(http_error(get(server, limit=100000)))  # the API answers 400
    assert not failures.is_transient(http_error(get(server, token="wrong")))  # 401


def test_http_refused_and_timed_out_are_transient(api):
    with pytest.raises(requests.ConnectionError) as refused:
        requests.get(f"http://127.0.0.1:{free_port()}/", timeout=5)
    assert failures.is_transient(refused.value)
    source, server = api
    source.hang_next(2)
    with pytest.raises(requests.Timeout) as timed_out:
        requests.get(server.base_url + "/api/items", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=0.3)
    assert failures.is_transient(timed_out.value)


def test_the_api_client_retries_only_what_can_heal(api):
    source, server = api
    client = PagedClient(server.base_url, TOKEN, "/api/items", backoff=0.01, max_attempts=5)
    with pytest.raises(SourceError, match="HTTP 400") as refused:
        client.get({"limit": 100000})
    assert source.requests == 1 and not failures.is_transient(refused.value)  # asked once, not five times
    with pytest.raises(SourceError, match="HTTP 401") as unauthorized:
        PagedClient(server.base_url, "wrong", "/api/items", backoff=0.01, max_attempts=5).get({})
    assert not failures.is_transient(unauthorized.value)

    source.fail_next(503, times=5)
    client = PagedClient(server.base_url, TOKEN, "/api/items", backoff=0.01, max_attempts=3)
    with pytest.raises(SourceError, match="failed 3 times, last: HTTP 503") as down:
        client.get({})
    assert failures.is_transient(down.value)  # still down after its own retries: the task's retry, later, may do


def test_an_error_no_retry_heals_fails_the_task_at_once_chained(database):
    undefined = error_of(database, "select undefined_fn()")

    @failures.fail_unless_transient
    def task():
        raise undefined

    with pytest.raises(AirflowFailException, match="does not exist") as failed:
        task()
    assert failed.value.__cause__ is undefined


def test_a_transient_error_goes_up_as_it_is_for_airflow_to_retry():
    @failures.fail_unless_transient
    def task():
        psycopg2.connect(host="127.0.0.1", port=free_port(), user="x", dbname="x", connect_timeout=5)

    with pytest.raises(psycopg2.OperationalError):
        task()


def test_an_error_raised_from_a_transient_one_is_judged_by_its_cause():
    try:
        try:
            requests.get(f"http://127.0.0.1:{free_port()}/", timeout=5)
        except requests.ConnectionError as exc:
            raise RuntimeError("the portal could not be read") from exc
    except RuntimeError as wrapped:
        assert failures.is_transient(wrapped)
    assert not failures.is_transient(RuntimeError("a bug"))
    assert not failures.is_transient(NameError("name 'undefined_fn' is not defined"))


def test_the_dags_default_retry_policy_fails_what_cannot_heal(database):
    policy = failures.RetryOnlyTransient()
    assert policy.evaluate(error_of(database, "select undefined_fn()"), 1, 3).action == RetryAction.FAIL
    assert policy.evaluate(KeyError("batch_id"), 1, 3).action == RetryAction.FAIL
    assert policy.evaluate(requests.ConnectTimeout("slow"), 1, 3).action == RetryAction.RETRY


# ---------- the DAG's own tasks


@pytest.fixture(scope="module")
def nightly_dag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(settings.PROJECT_ROOT / "dags")).dags["hcp_nightly"]


def test_a_task_failing_with_an_error_no_retry_heals_is_not_retried(nightly_dag, warehouse_db, monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONN_HCP_HALL", json.dumps({"conn_type": "fs", "extra": {"path": str(tmp_path / "no")}}))
    task = nightly_dag.get_task("hall.extract")
    with pytest.raises(AirflowFailException, match="not a folder") as failed:
        task.python_callable("2026-10-31")
    assert isinstance(failed.value.__cause__, FileNotFoundError)
    # and whatever a task raises, Airflow's retry policy for it retries only what can heal
    assert task.retry_policy.evaluate(failed.value.__cause__, 1, 3).action == RetryAction.FAIL


def test_a_task_whose_warehouse_is_down_is_retried(nightly_dag, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_HCP_WAREHOUSE", json.dumps(
        {"conn_type": "postgres", "host": "127.0.0.1", "port": free_port(), "login": "x", "schema": "x"}))
    task = nightly_dag.get_task("prepare_marts")
    with pytest.raises(psycopg2.OperationalError) as down:
        task.python_callable("2026-10-31")
    assert task.retry_policy.evaluate(down.value, 1, 3).action == RetryAction.RETRY


def test_a_dbt_model_whose_sql_cannot_run_is_not_retried(nightly_dag, warehouse_db, monkeypatch):
    from airflow.sdk.exceptions import AirflowException

    task = nightly_dag.get_task("dbt.fct_ratings_run")
    failed = AirflowException("Model 'model.haochaping.fct_ratings' finished with status 'error'")  # as Cosmos says
    task.compiled_sql = "select undefined_fn() from raw.pc_evaluations"  # what Cosmos keeps of the model's run
    assert task.retry_policy.evaluate(failed, 1, 3, {"task": task}).action == RetryAction.FAIL
    task.compiled_sql = "select count(*) from raw.pc_evaluations"  # SQL that plans: a run-time failure, retried
    assert task.retry_policy.evaluate(failed, 1, 3, {"task": task}).action == RetryAction.DEFAULT
    monkeypatch.setenv("AIRFLOW_CONN_HCP_WAREHOUSE", json.dumps(
        {"conn_type": "postgres", "host": "127.0.0.1", "port": free_port(), "login": "x", "schema": "x"}))
    assert task.retry_policy.evaluate(failed, 1, 3, {"task": task}).action == RetryAction.RETRY


DAG_TEST = """
import json
from airflow.dag_processing.dagbag import DagBag
from hcp import settings

dag = DagBag(dag_folder=str(settings.PROJECT_ROOT / "dags")).dags["hcp_nightly"]
run = dag.partial_subset(task_ids=["hall.extract"], include_upstream=True).test(run_conf={"night": "2026-10-31"})
print(json.dumps({ti.task_id: [ti.state, ti.try_number] for ti in run.get_task_instances()}))
"""


def test_airflow_fails_such_a_task_on_its_first_try(make_database, tmp_path):
    """By Airflow's own test path (dag.test(), as `airflow dags test` runs a night), with retries on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__"))}
    env.update({
        "AIRFLOW_HOME": str(tmp_path / "airflow"),  # its own metadata database (SQLite)
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.PROJECT_ROOT / "dags"),
        "AIRFLOW_CONN_HCP_WAREHOUSE": make_database("failures_dag_test"),
        "AIRFLOW_CONN_HCP_PII": os.environ["AIRFLOW_CONN_HCP_PII"],
        "AIRFLOW_CONN_HCP_HALL": json.dumps({"conn_type": "fs", "extra": {"path": str(tmp_path / "nowhere")}}),
        "HCP_TASK_RETRIES": "2",
        "HCP_LOCAL_DIR": str(tmp_path / "local"),
        "PYTHONPATH": str(settings.PROJECT_ROOT / "plugins"),
    })
    migrate = subprocess.run([runtime.airflow_bin(), "db", "migrate"], env=env, capture_output=True, text=True,
                             timeout=300, stdin=subprocess.DEVNULL)
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]
    result = subprocess.run([sys.executable, "-c", DAG_TEST], env=env, capture_output=True, text=True, timeout=600,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:]
    states = json.loads(result.stdout.strip().splitlines()[-1])
    assert states == {"resolve_night": ["success", 1], "hall.extract": ["failed", 1]}  # no second try
    assert "which is not a folder (not retried" in result.stdout + result.stderr
