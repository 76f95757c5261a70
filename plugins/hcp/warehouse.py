"""Connections to the warehouse and the DDL of the layers our loaders own: the audit layer (sql/warehouse.sql),
upgrades of older warehouses (sql/migrations.sql), and the raw tables each source declares."""
from __future__ import annotations

import hashlib
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


def schema_statements() -> list[str]:
    """What makes the loaders' schemas, in order: the warehouse, its migrations, the raw tables, then util."""
    from hcp.sources import RAW_TABLES

    sql = files("hcp").joinpath("sql")
    return [*(sql.joinpath(name).read_text(encoding="utf-8") for name in ("warehouse.sql", "migrations.sql")),
            "\n".join(raw_table_ddl(t) for t in RAW_TABLES.values()),
            *(sql.joinpath(name).read_text(encoding="utf-8") for name in ("raw.sql", "util.sql"))]


def _applied_schema(cur) -> str | None:
    """The fingerprint of the statements last applied, kept as the comment of schema util."""
    cur.execute("select d.description from pg_namespace n join pg_description d "
                "on d.objoid = n.oid and d.classoid = 'pg_namespace'::regclass where n.nspname = 'util'")
    row = cur.fetchone()
    return row[0] if row else None


def ensure_schema(conn) -> None:
    """The loaders' schemas as this code declares them. Once they are, it takes no lock at all: every task of a
    night calls it, and DDL beside another task's loading can deadlock."""
    require_supported_server(conn)
    statements = schema_statements()
    fingerprint = "haochaping schema " + hashlib.sha256("\n".join(statements).encode("utf-8")).hexdigest()
    with conn.cursor() as cur:
        if _applied_schema(cur) != fingerprint:
            cur.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
            if _applied_schema(cur) != fingerprint:  # not applied by another task while this one waited
                for statement in statements:
                    cur.execute(statement)
                cur.execute("comment on schema util is %s", (fingerprint,))
    conn.commit()
