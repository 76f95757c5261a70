"""Connections to the warehouse and the DDL of the layers our loaders own."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files

import psycopg2

from hcp import connections, settings

_DDL_LOCK = 7_401_001  # advisory lock id: concurrent loaders must not race on CREATE ... IF NOT EXISTS


def connect(conn_id: str = settings.WAREHOUSE_CONN_ID, **overrides):
    kwargs = connections.postgres_kwargs(connections.get_connection(conn_id))
    kwargs.update(overrides)
    return psycopg2.connect(application_name="haochaping", **kwargs)


@contextmanager
def connection(conn_id: str = settings.WAREHOUSE_CONN_ID) -> Iterator:
    conn = connect(conn_id)
    try:
        yield conn
    finally:
        conn.close()


def ensure_schema(conn) -> None:
    sql = files("hcp").joinpath("sql")
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        for name in ("warehouse.sql", "util.sql"):
            cur.execute(sql.joinpath(name).read_text(encoding="utf-8"))
    conn.commit()
