"""Everything a night needs, checked before any of it starts, every problem named in one message.

``make night`` checks it all: each source's connection and its fields, the hashing key, and the warehouse
(reachable, a supported PostgreSQL, the privileges the loaders and dbt need). hcp_nightly's first task checks
the warehouse and the key, so a scheduled night with a bad one fails at once instead of after every extract.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from importlib.resources import files
from urllib.parse import urlsplit

import psycopg2
import yaml
from airflow.sdk import Connection

from hcp import connections, pii, settings, warehouse
from hcp.files import folder_of
from hcp.sources import SOURCES

BI_ROLE = "hcp_bi"  # created by plugins/hcp/sql/warehouse.sql when missing
CONNECT_TIMEOUT = 10  # seconds


class PreflightFailed(RuntimeError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        count = "1 problem stops" if len(problems) == 1 else f"{len(problems)} problems stop"
        super().__init__(f"{count} the night (夜间任务无法开始):\n"
                         + "\n".join(f"  - {p}" for p in problems))


# ---------- the warehouse


def schemas_written() -> list[str]:
    """The schemas the loaders (plugins/hcp/sql) and dbt (dbt_project.yml ``+schema``) create and write."""
    sql = files("hcp").joinpath("sql")
    ours = [name for f in ("warehouse.sql", "util.sql")
            for name in re.findall(r"create schema if not exists (\w+)", sql.joinpath(f).read_text(encoding="utf-8"))]
    project = yaml.safe_load((settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return list(dict.fromkeys(ours + _dbt_schemas(project.get("models", {})) + _dbt_schemas(project.get("seeds", {}))))


def schemas_granted() -> list[str]:
    """Schemas whose usage dbt's on-run-end hooks grant on (to the BI role): that takes ownership or a grant option."""
    project = yaml.safe_load((settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    hooks = project.get("on-run-end") or []
    return [name for hook in ([hooks] if isinstance(hooks, str) else hooks)
            for name in re.findall(r"grant usage on schema (\w+)", hook, flags=re.IGNORECASE)]


def _dbt_schemas(config) -> list[str]:
    if not isinstance(config, dict):
        return []
    found = [config["+schema"]] if isinstance(config.get("+schema"), str) else []
    return found + [s for value in config.values() for s in _dbt_schemas(value)]


def warehouse_problems(conn) -> list[str]:
    """On an open connection to the warehouse database: its server version and the privileges a night needs."""
    problem = warehouse.version_problem(*warehouse.server_version(conn))
    problems = [problem] if problem else []
    problems += privilege_problems(conn)
    conn.rollback()
    return problems


def privilege_problems(conn) -> list[str]:
    """The loaders create and alter raw, audit and util; dbt creates and replaces relations in its schemas. So the
    role needs, for each: CREATE on the database while the schema is missing, CREATE on it once it exists, and
    ownership of what is in it."""
    problems = []
    schemas = schemas_written()
    with conn.cursor() as cur:
        cur.execute("select current_user, current_database(), has_database_privilege(current_database(), 'CREATE')")
        role, database, may_create_schemas = cur.fetchone()
        cur.execute(
            """
            select s.name, n.oid is not null, pg_get_userbyid(n.nspowner),
                   coalesce(has_schema_privilege(n.oid, 'USAGE') and has_schema_privilege(n.oid, 'CREATE'), false),
                   coalesce(not s.name = any(%s) or has_schema_privilege(n.oid, 'USAGE WITH GRANT OPTION'), false)
              from unnest(%s::text[]) with ordinality as s (name, i)
              left join pg_namespace n on n.nspname = s.name
             order by s.i
            """,
            (schemas_granted(), schemas),
        )
        state = cur.fetchall()
        cur.execute(
            """
            select n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner)
              from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm')
               and not pg_has_role(c.relowner, 'USAGE')
             order by 1
            """,
            (schemas,),
        )
        not_owned = cur.fetchall()
    missing = [name for name, exists, *_ in state if not exists]
    if missing and not may_create_schemas:
        problems.append(
            f"role {role} may not create schemas in database {database}, and {', '.join(missing)} do not exist yet: "
            f"grant create on database {database} to {role} (or create them owned by {role})")
    for name, exists, owner, may_write, may_grant in state:
        if exists and not may_write:
            problems.append(f"role {role} may not create tables in schema {name} (owner {owner}): "
                            f"grant usage, create on schema {name} to {role}, or make {role} its owner")
        elif exists and not may_grant:
            problems.append(f"role {role} may not grant {BI_ROLE} usage on schema {name} (owner {owner}), as dbt "
                            f"does after each build: make {role} its owner")
    if not_owned:
        owners = sorted({owner for _, owner in not_owned})
        shown = ", ".join(name for name, _ in not_owned[:5]) + (f" and {len(not_owned) - 5} more"
                                                                 if len(not_owned) > 5 else "")
        verb = "belongs" if len(not_owned) == 1 else "belong"
        problems.append(f"{shown} {verb} to {', '.join(owners)}, not to role {role}: the loaders and dbt alter and "
                        f"replace them, so {role} must own them (alter table ... owner to {role})")
    return problems + role_problems(conn)


def role_problems(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("select current_user, rolsuper or rolcreaterole, exists (select 1 from pg_roles where rolname = %s) "
                    "from pg_roles where rolname = current_user", (BI_ROLE,))
        role, may_create_roles, bi_role_exists = cur.fetchone()
    if bi_role_exists or may_create_roles:
        return []
    return [f"role {BI_ROLE} (the read-only role of BI tools) does not exist and role {role} may not create roles: "
            f"create it once as an administrator (create role {BI_ROLE} login)"]


def server_problems(kwargs: dict, databases: list[str]) -> list[str]:
    """The warehouse server as the command line finds it: reachable, each database there or creatable, and the
    warehouse database's own checks when it exists. Names the problems instead of raising."""
    where = f"{kwargs['host']}:{kwargs['port']}"
    try:
        conn = _connect(kwargs)
    except psycopg2.Error as exc:
        first = _one_line(exc)
        try:  # is it the server, or only the database?
            admin = _connect({**kwargs, "dbname": "postgres"})
        except psycopg2.Error:
            return [f"the warehouse {where} cannot be reached as role {kwargs['user'] or '(none given)'} "
                    f"(仓库数据库无法连接): {first}"]
        try:
            problem = warehouse.version_problem(*warehouse.server_version(admin))
            problems = [problem] if problem else []
            problems += database_problems(admin, databases, where) + role_problems(admin)
            if kwargs["dbname"] not in missing_databases(admin, [kwargs["dbname"]]):
                problems.append(f"database {kwargs['dbname']} on {where} refuses role {kwargs['user']}: {first}")
            return problems
        finally:
            admin.close()
    try:
        return warehouse_problems(conn) + database_problems(conn, databases, where)
    finally:
        conn.close()


def missing_databases(conn, names: list[str]) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("select name from unnest(%s::text[]) name "
                    "where not exists (select 1 from pg_database where datname = name)", (names,))
        missing = [name for (name,) in cur.fetchall()]
    conn.rollback()
    return missing


def database_problems(conn, names: list[str], where: str) -> list[str]:
    """Databases a night needs (the warehouse's, Airflow's) that are missing and that this role may not create."""
    missing = missing_databases(conn, names)
    if not missing:
        return []
    with conn.cursor() as cur:
        cur.execute("select current_user, rolcreatedb or rolsuper from pg_roles where rolname = current_user")
        role, may_create = cur.fetchone()
    conn.rollback()
    if may_create:
        return []
    return [f"database {name} does not exist on {where} and role {role} may not create databases: "
            f"create it owned by {role}" for name in missing]


def _connect(kwargs: dict):
    return psycopg2.connect(**{"application_name": "haochaping-preflight", "connect_timeout": CONNECT_TIMEOUT, **kwargs})


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


# ---------- connections


def connection_problems(get: Callable[[str], Connection]) -> list[str]:
    """Each source's connection defined, with what its loader reads; and the hashing key.
    ``get`` raises connections.MissingConnection for one that is not defined."""
    problems = []
    for source in SOURCES.values():
        try:
            conn = get(source.conn_id)
        except connections.MissingConnection as exc:
            problems.append(str(exc))
            continue
        problems += field_problems(source.conn_type, conn)
    return problems + key_problems(get)


def key_problems(get: Callable[[str], Connection]) -> list[str]:
    try:
        pii.key_of(get(settings.PII_KEY_CONN_ID))
    except connections.MissingConnection as exc:
        return [f"{exc} (the secret key of the hashes that replace phone and id card numbers; required with a "
                "real warehouse, see README 'Pointing it at real sources')"]
    return []


def field_problems(conn_type: str, conn: Connection) -> list[str]:
    if conn_type == "fs":
        try:
            folder_of(conn)
        except (connections.MissingConnection, FileNotFoundError) as exc:
            return [str(exc)]
        return []
    if conn_type == "http":
        url = connections.http_base_url(conn)
        try:
            parts = urlsplit(url)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
        except ValueError:  # a port that is not a number
            ok = False
        return [] if ok and conn.host else [f"connection '{conn.conn_id}' (http) has no usable host: {url!r}"]
    if conn_type == "postgres":
        return [] if conn.host else [f"connection '{conn.conn_id}' (postgres) has no host"]
    raise ValueError(f"unknown connection type {conn_type!r}")


def lookup(env: Mapping[str, str], stored: Mapping[str, str]) -> Callable[[str], Connection]:
    """A connection from the environment's ``AIRFLOW_CONN_*``, else from what Airflow keeps."""
    def get(conn_id: str) -> Connection:
        value = env.get(connections.env_var(conn_id)) or stored.get(conn_id)
        if not value:
            raise connections.MissingConnection(
                f"connection '{conn_id}' is not defined: set {connections.env_var(conn_id)} or add it in Airflow")
        try:
            return connections.parse(conn_id, value)
        except Exception as exc:  # JSON or URI that Airflow cannot read either
            raise connections.MissingConnection(f"connection '{conn_id}' cannot be read: {_one_line(exc)}") from exc
    return get


def needed_connection_ids() -> list[str]:
    return [s.conn_id for s in SOURCES.values()] + [settings.PII_KEY_CONN_ID]


def stored_connections(conn_ids: list[str], env: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """Connections Airflow keeps (its database, a secrets backend), as JSON, read in one Airflow process; and why
    they could not be read, if so."""
    if not conn_ids:
        return {}, None
    result = subprocess.run([sys.executable, "-m", "hcp.preflight", *conn_ids], env=dict(env), capture_output=True,
                            text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        return {}, (result.stderr.strip().splitlines() or ["no output"])[-1]
    return json.loads(result.stdout.strip().splitlines()[-1]), None


# ---------- make night


def night_problems(warehouse_value: str, env: Mapping[str, str]) -> list[str]:
    """Every problem that would stop `make night`, found without starting it."""
    kwargs = connections.postgres_kwargs(connections.parse(settings.WAREHOUSE_CONN_ID, warehouse_value))
    problems = server_problems(kwargs, [kwargs["dbname"], settings.AIRFLOW_DB])
    not_in_env = [c for c in needed_connection_ids() if not env.get(connections.env_var(c))]
    stored, unread = {}, None
    if not_in_env:
        # Airflow keeps connections in its database, on the warehouse server
        stored, unread = (stored_connections(not_in_env, env) if not problems
                          else ({}, "it is on the warehouse server, named above"))
    problems += connection_problems(lookup(env, stored))
    if unread:
        problems.append(f"Airflow's own connection store could not be read ({unread}): "
                        f"{', '.join(c for c in not_in_env if c not in stored)} were looked for in the environment only")
    return problems


def check_night(warehouse_value: str, env: Mapping[str, str]) -> None:
    problems = night_problems(warehouse_value, env)
    if problems:
        raise PreflightFailed(problems)


# ---------- hcp_nightly's first task


def check_warehouse() -> None:
    """The warehouse and the hashing key, from inside a task. A warehouse that cannot be reached raises the
    driver's error (a retry may find it back); anything else wrong raises PreflightFailed."""
    with warehouse.connection() as conn:
        problems = warehouse_problems(conn)
    problems += key_problems(connections.get_connection)
    if problems:
        raise PreflightFailed(problems)


def _print_stored(conn_ids: list[str]) -> None:
    """In a process of its own with Airflow's configuration: print the kept connections as one JSON line."""
    os.environ["_AIRFLOW_PROCESS_CONTEXT"] = "server"  # read Airflow's database directly, as its CLI does
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models import Connection as StoredConnection

    found = {}
    for conn_id in conn_ids:
        try:
            found[conn_id] = StoredConnection.get_connection_from_secrets(conn_id).as_json()
        except AirflowNotFoundException:
            continue
    print(json.dumps(found))


if __name__ == "__main__":
    _print_stored(sys.argv[1:])
