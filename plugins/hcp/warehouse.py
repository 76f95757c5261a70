"""Connections to the warehouse and the DDL of the layers our loaders own: the audit layer (sql/warehouse.sql),
upgrades of older warehouses (sql/migrations.sql), and the raw tables each source declares."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files

import psycopg2

from hcp import connections, settings
from hcp.sources.contract import LOADER_COLUMNS, RawTable

log = logging.getLogger(__name__)

_DDL_LOCK = 7_401_001  # advisory lock id: concurrent loaders must not race on CREATE ... IF NOT EXISTS
# The PostgreSQL majors still supported upstream (docs/contract.md §10.1); older ones lack what our SQL uses
OLDEST_MAJOR, NEWEST_TESTED_MAJOR = 15, 18


class UnsupportedServer(RuntimeError):
    pass


def server_version(conn) -> tuple[int, str]:
    """``server_version_num`` (e.g. 140011) and ``server_version`` (e.g. '14.11 (Debian 14.11-1)')."""
    with conn.cursor() as cur:
        cur.execute("select current_setting('server_version_num')::int, current_setting('server_version')")
        return cur.fetchone()


def version_problem(number: int, text: str) -> str | None:
    """Why a server of this version cannot be the warehouse, or None when it can."""
    if number // 10000 < OLDEST_MAJOR:
        return (f"the warehouse runs PostgreSQL {text.split()[0]}; Haochaping needs {OLDEST_MAJOR} or later "
                f"(仓库数据库版本过低, 需要 PostgreSQL {OLDEST_MAJOR} 及以上)")
    if number // 10000 > NEWEST_TESTED_MAJOR:
        log.warning("the warehouse runs PostgreSQL %s, newer than the %s Haochaping is tested on",
                    text.split()[0], NEWEST_TESTED_MAJOR)
    return None


def require_supported_server(conn) -> None:
    problem = version_problem(*server_version(conn))
    if problem:
        raise UnsupportedServer(problem)


def connect(conn_id: str = settings.WAREHOUSE_CONN_ID, **overrides):
    kwargs = connections.postgres_kwargs(connections.get_connection(conn_id))
    kwargs.update(overrides)
    return psycopg2.connect(**{"application_name": "haochaping", **kwargs})


@contextmanager
def connection(conn_id: str = settings.WAREHOUSE_CONN_ID) -> Iterator:
    conn = connect(conn_id)
    try:
        yield conn
    finally:
        conn.close()


def raw_table_ddl(table: RawTable) -> str:
    """A raw table as its source declares it: every field text; indexed by batch, by id and by what rows are
    looked up by."""
    short = table.short_name
    indexed = ([("batch", "_batch_id")] if table.batch_index else []) \
        + ([("id", table.id_column)] if table.id_column else []) + [(c, c) for c in table.index_on]
    return "\n".join([
        f"create table if not exists {table.name} ("
        f"{', '.join([*(f'{c} text' for c in table.columns), *(f'{c} {t}' for c, t in LOADER_COLUMNS.items())])});",
        *(f"create index if not exists {short}_{suffix}_idx on {table.name} ({column});"
          for suffix, column in indexed),
    ])


def ensure_schema(conn) -> None:
    from hcp.sources import RAW_TABLES

    require_supported_server(conn)
    sql = files("hcp").joinpath("sql")
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        for name in ("warehouse.sql", "migrations.sql"):
            cur.execute(sql.joinpath(name).read_text(encoding="utf-8"))
        cur.execute("\n".join(raw_table_ddl(t) for t in RAW_TABLES.values()))
        for name in ("raw.sql", "util.sql"):
            cur.execute(sql.joinpath(name).read_text(encoding="utf-8"))
    conn.commit()
