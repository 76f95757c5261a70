"""`make night` checks everything a night needs before it starts, and names every problem in one message."""
import json
import os
import subprocess
import sys

import psycopg2
import pytest
from airflow.sdk.exceptions import AirflowFailException

from hcp import connections, nightly, preflight, settings, warehouse
from hcp.sources import SOURCES
from hcp_dev.cluster import free_port


def run_cli(env, *args):
    return subprocess.run([sys.executable, "-m", "hcp_dev.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def cli_env(tmp_path, **connection_values):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_") and k != "AIRFLOW_HOME"}
    env.update({connections.env_var(c): v for c, v in connection_values.items()})
    env.update({"HCP_LOCAL_DIR": str(tmp_path / "local"), "PYTHONPATH": str(settings.PROJECT_ROOT / "plugins")})
    return env


def good_sources(tmp_path) -> dict[str, str]:
    values = {}
    for source in SOURCES.values():
        if source.conn_type == "fs":
            (tmp_path / source.name).mkdir()
            values[source.conn_id] = json.dumps({"conn_type": "fs", "extra": {"path": str(tmp_path / source.name)}})
        elif source.conn_type == "http":
            values[source.conn_id] = json.dumps({"conn_type": "http", "host": "https://zwfw.example.gov.cn",
                                                 "password": "t"})
        else:
            values[source.conn_id] = "postgresql://reader:pw@hotline-db:5432/hotline"
    return values


def test_make_night_names_every_problem_in_one_message_and_starts_nothing(tmp_path):
    sources = good_sources(tmp_path)
    sources["hcp_app"] = json.dumps({"conn_type": "fs", "extra": {"path": str(tmp_path / "no_such_folder")}})
    closed = free_port()
    warehouse_value = json.dumps({"conn_type": "postgres", "host": "127.0.0.1", "port": closed, "login": "hcp",
                                  "schema": "hcp"})
    # hcp_pii is not set: a real warehouse needs it
    result = run_cli(cli_env(tmp_path, **sources, hcp_warehouse=warehouse_value), "night", "--date", "2026-10-31")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    message = result.stderr
    assert f"the warehouse 127.0.0.1:{closed} cannot be reached" in message
    assert "'hcp_pii' is not defined" in message
    assert f"'hcp_app' points at {tmp_path / 'no_such_folder'}, which is not a folder" in message
    assert "hcp_hall" not in message  # what is fine is not named
    assert not (tmp_path / "local" / "logs").exists()  # nothing was started


def test_an_invalid_date_is_a_usage_error_not_a_traceback(tmp_path):
    result = run_cli(cli_env(tmp_path), "night", "--date", "2026-13-01")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("usage: hcp night")
    assert "argument --date: not a date: '2026-13-01'" in result.stderr


def test_servers_older_than_15_are_refused_by_name():
    assert warehouse.version_problem(140011, "14.11 (Debian 14.11-1.pgdg120+1)") == (
        "the warehouse runs PostgreSQL 14.11; Haochaping needs 15 or later "
        "(仓库数据库版本过低, 需要 PostgreSQL 15 及以上)")
    assert "PostgreSQL 12.2;" in warehouse.version_problem(120002, "12.2")
    assert warehouse.version_problem(150000, "15.0") is None
    assert warehouse.version_problem(180001, "18.1") is None
    assert warehouse.version_problem(190000, "19beta1") is None  # newer: a warning, not a refusal


def test_the_suites_server_is_supported_and_ensure_schema_checks_it(warehouse_db):
    number, text = warehouse.server_version(warehouse_db)
    assert number >= 150000 and text.split(".")[0] == str(number // 10000)
    warehouse.require_supported_server(warehouse_db)


@pytest.fixture
def limited_role(pg_server, make_database):
    """A warehouse database as a role with few privileges: schema raw exists, owned by someone else, and holds
    a table it does not own; it may create in audit and marts, but not grant on marts; it may not create
    schemas, databases or roles."""
    value = json.loads(make_database("preflight_limited"))
    admin = psycopg2.connect(pg_server.dsn(value["schema"]))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("drop role if exists hcp_limited")
        cur.execute("create role hcp_limited login nocreatedb nocreaterole")
        cur.execute("create schema raw")
        cur.execute("create table raw.pc_evaluations (id int)")
        cur.execute("create schema audit")
        cur.execute("grant usage, create on schema audit to hcp_limited")
        cur.execute("create schema marts")
        cur.execute("grant usage, create on schema marts to hcp_limited")
    value["login"] = "hcp_limited"
    yield value
    with admin.cursor() as cur:
        cur.execute("drop schema raw, audit, marts cascade")
        cur.execute("drop owned by hcp_limited; drop role hcp_limited")
    admin.close()


def test_missing_privileges_are_named(limited_role):
    kwargs = connections.postgres_kwargs(connections.parse("w", json.dumps(limited_role)))
    problems = preflight.server_problems(kwargs, [kwargs["dbname"], "airflow_preflight_missing"])
    text = "\n".join(problems)
    assert f"role hcp_limited may not create schemas in database {kwargs['dbname']}" in text
    assert "util" in text and "staging" in text  # the schemas still to be made, the loaders' and dbt's
    assert "role hcp_limited may not create tables in schema raw (owner postgres)" in text
    assert "schema audit" not in text  # granted
    assert "role hcp_limited may not grant hcp_bi usage on schema marts (owner postgres)" in text
    assert "raw.pc_evaluations belongs to postgres, not to role hcp_limited" in text
    assert "database airflow_preflight_missing does not exist" in text and "may not create databases" in text


def test_a_missing_warehouse_database_that_cannot_be_created_is_named(limited_role):
    kwargs = connections.postgres_kwargs(connections.parse("w", json.dumps({**limited_role, "schema": "nothing_here"})))
    problems = preflight.server_problems(kwargs, [kwargs["dbname"]])
    [problem] = [p for p in problems if "hcp_bi" not in p]  # the BI role exists once another test made it
    assert problem.startswith("database nothing_here does not exist on 127.0.0.1:")
    assert problem.endswith("role hcp_limited may not create databases: create it owned by hcp_limited")


def test_the_superuser_warehouse_has_no_problems(warehouse_db):
    assert preflight.warehouse_problems(warehouse_db) == []


def test_each_connection_is_checked_for_what_its_loader_reads(tmp_path):
    sources = good_sources(tmp_path)
    env = {connections.env_var(c): v for c, v in sources.items()}
    env[connections.env_var(settings.PII_KEY_CONN_ID)] = json.dumps({"conn_type": "generic", "password": "k"})
    assert preflight.connection_problems(preflight.lookup(env, {})) == []

    env[connections.env_var("hcp_pc")] = json.dumps({"conn_type": "http", "host": "https://portal:port",
                                                     "password": "t"})
    env[connections.env_var("hcp_rectification")] = json.dumps({"conn_type": "http", "password": "t"})
    env[connections.env_var("hcp_hotline")] = json.dumps({"conn_type": "postgres", "login": "reader"})
    env[connections.env_var("hcp_sms")] = json.dumps({"conn_type": "fs"})
    env[connections.env_var(settings.PII_KEY_CONN_ID)] = json.dumps({"conn_type": "generic"})
    del env[connections.env_var("hcp_master")]
    problems = preflight.connection_problems(preflight.lookup(env, {}))
    assert problems == [
        "connection 'hcp_pc' (http) has no usable host: 'https://portal:port'",
        "connection 'hcp_hotline' (postgres) has no host",
        "connection 'hcp_sms' has no extra.path",
        "connection 'hcp_master' is not defined: set AIRFLOW_CONN_HCP_MASTER or add it in Airflow",
        "connection 'hcp_rectification' (http) has no usable host: 'http://'",
        "Airflow connection 'hcp_pii' has no password: it must hold the hashing key (the secret key of the hashes "
        "that replace phone and id card numbers; required with a real warehouse, see README 'Pointing it at real "
        "sources')",
    ]


def test_the_nights_first_task_fails_at_once_on_a_missing_key(warehouse_db, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_HCP_PII")
    with pytest.raises(AirflowFailException, match="'hcp_pii' is not defined") as failed:
        nightly.check_warehouse()
    assert isinstance(failed.value.__cause__, preflight.PreflightFailed)


def test_the_nights_first_task_leaves_a_warehouse_that_is_down_to_its_retries(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_HCP_WAREHOUSE", json.dumps(
        {"conn_type": "postgres", "host": "127.0.0.1", "port": free_port(), "login": "x", "schema": "x"}))
    with pytest.raises(psycopg2.OperationalError):
        nightly.check_warehouse()
