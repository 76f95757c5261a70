"""Bringing the stack up on one machine: the warehouse server, its databases, Airflow's environment.

With ``AIRFLOW_CONN_HCP_WAREHOUSE`` set, that server is used and nothing is
started; without it, the embedded PostgreSQL in ``.local/pgdata`` is.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
from psycopg2 import sql

from hcp import connections, dbt, pii, settings
from hcp_dev.embedded_pg import EmbeddedServer

WAREHOUSE_VAR = connections.env_var(settings.WAREHOUSE_CONN_ID)


def embedded_server() -> EmbeddedServer:
    return EmbeddedServer(settings.LOCAL_DIR / "pgdata", settings.EMBEDDED_PORT)


def uses_embedded() -> bool:
    return not os.environ.get(WAREHOUSE_VAR)


def warehouse_value() -> str:
    """The warehouse connection as Airflow JSON or URI; the embedded server is started, a real one only named."""
    if not uses_embedded():
        return os.environ[WAREHOUSE_VAR]
    server = embedded_server().start()
    return json.dumps({"conn_type": "postgres", "host": server.host, "port": server.port,
                       "login": "postgres", "schema": settings.WAREHOUSE_DB})


def start_warehouse() -> str:
    """Make sure the warehouse server is up and its databases exist; return the connection as Airflow JSON."""
    value = warehouse_value()
    kwargs = connections.postgres_kwargs(connections.parse(settings.WAREHOUSE_CONN_ID, value))
    create_databases(kwargs, [kwargs["dbname"], settings.AIRFLOW_DB])
    return value


def create_databases(kwargs: dict, names: list[str]) -> None:
    admin = psycopg2.connect(**{**kwargs, "dbname": "postgres"})
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            for name in names:
                cur.execute("select 1 from pg_database where datname = %s", (name,))
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    finally:
        admin.close()


def airflow_sqlalchemy_url(warehouse_value: str) -> str:
    conn = connections.parse(settings.WAREHOUSE_CONN_ID, warehouse_value)
    return connections.sqlalchemy_url(conn, dbname=settings.AIRFLOW_DB)


def airflow_async_url(sync_url: str) -> str:
    """The api-server's async URL. Airflow's default driver for it, asyncpg, takes none of the libpq options a
    connection's extras put in the query string (sslmode, sslrootcert...); psycopg 3 takes them all."""
    return sync_url.replace("postgresql+psycopg2://", "postgresql+psycopg://", 1)


def airflow_env(warehouse_value: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every Airflow command of ours runs in."""
    airflow_home = settings.LOCAL_DIR / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    plugins = str(settings.PROJECT_ROOT / "plugins")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": plugins,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_sqlalchemy_url(warehouse_value),
        "AIRFLOW__API__PORT": os.environ.get("AIRFLOW__API__PORT", "8080"),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
        WAREHOUSE_VAR: warehouse_value,
        "PYTHONPATH": os.pathsep.join(p for p in (plugins, os.environ.get("PYTHONPATH")) if p),
        # `airflow standalone` starts its components as `airflow ...` from PATH: ours first.
        "PATH": os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", ""))),
        "GX_ANALYTICS_ENABLED": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "HCP_PROJECT_ROOT": str(settings.PROJECT_ROOT),
        "HCP_LOCAL_DIR": str(settings.LOCAL_DIR),
    }
    if "?" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = airflow_async_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    pii_var = connections.env_var(settings.PII_KEY_CONN_ID)
    if pii_var not in env and uses_embedded():
        # the embedded warehouse is local state: so is its hashing key. A real warehouse brings its own.
        env[pii_var] = pii.local_key_connection()
    env.update(extra or {})
    return env


def airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def airflow(args: list[str], env: dict[str, str], log_file: Path) -> None:
    """Run an ``airflow`` command; its output goes to log_file, and its tail into the error when it fails."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "w") as out:
        result = subprocess.run([airflow_bin(), *args], env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-60:])
        raise RuntimeError(f"airflow {' '.join(args)} failed (exit {result.returncode}); log: {log_file}\n{tail}")


def migrate_airflow_db(env: dict[str, str]) -> None:
    """Airflow's metadata database and the load pool; and the dbt manifest the DAG renders its dbt tasks from."""
    dbt.ensure_manifest()
    airflow(["db", "migrate"], env, settings.LOCAL_DIR / "logs" / "airflow-db-migrate.log")
    airflow(["pools", "set", settings.LOAD_POOL, str(settings.LOAD_POOL_SLOTS), "sources loading into the warehouse"],
            env, settings.LOCAL_DIR / "logs" / "airflow-pools.log")
