"""Airflow connections, read the same way inside a task and outside one.

Inside a task ``Connection.get`` asks Airflow (env vars, secrets backends, the
metadata database). The command line and tests run outside any task, where only
``AIRFLOW_CONN_<ID>`` is there to read, so that comes first.
"""
from __future__ import annotations

import os
from urllib.parse import quote

from airflow.sdk import Connection


class MissingConnection(RuntimeError):
    pass


def env_var(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def parse(conn_id: str, value: str) -> Connection:
    """A connection from the value of an ``AIRFLOW_CONN_*`` variable: JSON or URI, as Airflow accepts."""
    if value.lstrip().startswith("{"):
        return Connection.from_json(value, conn_id=conn_id)
    return Connection.from_uri(value, conn_id=conn_id)


def get_connection(conn_id: str) -> Connection:
    value = os.environ.get(env_var(conn_id))
    if value:
        return parse(conn_id, value)
    try:
        return Connection.get(conn_id)
    except Exception as exc:  # outside a task Airflow has nowhere else to look
        raise MissingConnection(
            f"Airflow connection '{conn_id}' is not defined: set {env_var(conn_id)} or add it in Airflow"
        ) from exc


def http_base_url(conn: Connection) -> str:
    """The API's base URL, as Airflow's HTTP provider reads a connection: the scheme in the host,
    or in ``schema``, or (URI form ``https://...``) in the connection type."""
    host = (conn.host or "").rstrip("/")
    if "://" not in host:
        scheme = conn.schema if conn.schema in ("http", "https") else ("https" if conn.conn_type == "https" else "http")
        host = f"{scheme}://{host}"
    return f"{host}:{conn.port}" if conn.port else host


def postgres_kwargs(conn: Connection) -> dict:
    """psycopg2.connect keyword arguments; ``schema`` is the database, as in Airflow's postgres provider."""
    kwargs = {"host": conn.host, "port": conn.port or 5432, "user": conn.login, "dbname": conn.schema or "postgres"}
    if conn.password:
        kwargs["password"] = conn.password
    return kwargs


def sqlalchemy_url(conn: Connection, dbname: str | None = None) -> str:
    """A SQLAlchemy URL (GX, Airflow's metadata) for a postgres connection, optionally another database on it."""
    kw = postgres_kwargs(conn)
    auth = quote(kw["user"] or "", safe="")
    if kw.get("password"):
        auth += ":" + quote(kw["password"], safe="")
    return f"postgresql+psycopg2://{auth}@{kw['host']}:{kw['port']}/{dbname or kw['dbname']}"
