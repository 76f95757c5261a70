"""Airflow connections, read the same way inside a task and outside one.

Inside a task ``Connection.get`` asks Airflow (env vars, secrets backends, the
metadata database). The command line and tests run outside any task, where only
``AIRFLOW_CONN_<ID>`` is there to read, so that comes first.

A connection's extras mean what they mean to Airflow's providers: for ``postgres``
what ``PostgresHook`` passes to libpq (``sslmode``, ``sslrootcert``, ``options``, ...),
for ``http`` what ``HttpHook`` sets on its ``requests`` session (``verify``, ``proxies``,
``cert``, ``timeout``, ...). The hooks themselves look connections up their own way,
so the mapping is ours; tests/test_connections.py holds it to the installed hooks.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import requests
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


TRUE_TEXT = ("true", "t", "y", "yes", "1", "on")
FALSE_TEXT = ("false", "f", "n", "no", "0", "off")


def as_bool(value: Any) -> bool:
    """An extra that means yes or no. URI extras are always text ("true", "0"): read as Airflow's to_boolean
    reads text, "on" too."""
    return value.strip().lower() in TRUE_TEXT if isinstance(value, str) else bool(value)


# ---------- postgres

# Extras PostgresHook keeps for itself (its ``ignored_extra_options``): every other extra goes to libpq.
POSTGRES_HOOK_EXTRAS = frozenset({
    "iam", "redshift", "redshift-serverless", "cluster-identifier", "workgroup-name", "aws_conn_id", "azure_conn_id",
    "cursor", "sqlalchemy_scheme", "sqlalchemy_query",
})
# What postgres_kwargs always sets from the connection's own fields
POSTGRES_FIELDS = ("host", "port", "user", "password", "dbname")


def postgres_kwargs(conn: Connection) -> dict:
    """psycopg2.connect keyword arguments, as PostgresHook.get_conn builds them: ``schema`` is the database, and
    every extra but the hook's own is a libpq option (``sslmode``, ``sslrootcert``, ``sslcert``, ``sslkey``,
    ``options``, ``connect_timeout``, ``target_session_attrs``, ...). An extra libpq does not know fails in
    psycopg2.connect, named."""
    extras = conn.extra_dejson
    if as_bool(extras.get("iam", False)):
        # the token would come from the AWS or Azure provider, which Haochaping does not ship
        raise ValueError(f"connection '{conn.conn_id}': IAM authentication (extra 'iam') is not supported; "
                         "give the password instead")
    kwargs = {"host": conn.host, "port": conn.port or 5432, "user": conn.login, "dbname": conn.schema or "postgres"}
    if conn.password:
        kwargs["password"] = conn.password
    for key, value in extras.items():
        if key in POSTGRES_HOOK_EXTRAS or value is None:
            continue
        # libpq's yes-or-no options (keepalives, sslsni, ...) take 1 or 0, never "True"
        kwargs[key] = int(value) if isinstance(value, bool) else value
    return kwargs


def libpq_options(kwargs: Mapping) -> dict:
    """The libpq options of postgres_kwargs beyond server, user, password and database."""
    return {k: v for k, v in kwargs.items() if k not in POSTGRES_FIELDS}


def sqlalchemy_url(conn: Connection, dbname: str | None = None) -> str:
    """A SQLAlchemy URL (GX, Airflow's metadata) for a postgres connection, optionally another database on it.
    The libpq options ride in the query string, so the engine connects as psycopg2.connect(**postgres_kwargs)
    does; ``sqlalchemy_scheme`` and ``sqlalchemy_query`` are read as PostgresHook reads them."""
    kw = postgres_kwargs(conn)
    auth = quote(kw["user"] or "", safe="")
    if kw.get("password"):
        auth += ":" + quote(kw["password"], safe="")
    extras = conn.extra_dejson
    scheme = extras.get("sqlalchemy_scheme") or "postgresql+psycopg2"
    if (scheme != "postgresql" and not scheme.startswith("postgresql+")) or "/" in scheme or ":" in scheme:
        raise ValueError(f"connection '{conn.conn_id}': sqlalchemy_scheme must be 'postgresql' or "
                         f"'postgresql+<driver>', got {scheme!r}")
    query = {k: str(v) for k, v in libpq_options(kw).items()}
    query.update({k: str(v) for k, v in (extras.get("sqlalchemy_query") or {}).items()})
    url = f"{scheme}://{auth}@{kw['host']}:{kw['port']}/{quote(dbname or kw['dbname'], safe='')}"
    return url + ("?" + urlencode(query, quote_via=quote) if query else "")


# ---------- http

# Extras HttpHook reads as settings of its session or its requests; every other extra is a header.
HTTP_SETTINGS = frozenset({
    "verify", "verify_ssl", "cert", "proxies", "proxy", "timeout", "trust_env", "stream", "allow_redirects",
    "max_redirects", "check_response", "srv_lookup",
})


def http_base_url(conn: Connection) -> str:
    """The API's base URL, as Airflow's HTTP provider reads a connection: the scheme in the host,
    or in ``schema``, or (URI form ``https://...``) in the connection type."""
    host = (conn.host or "").rstrip("/")
    if "://" not in host:
        scheme = conn.schema if conn.schema in ("http", "https") else ("https" if conn.conn_type == "https" else "http")
        host = f"{scheme}://{host}"
    return f"{host}:{conn.port}" if conn.port else host


class ConnectionSession(requests.Session):
    """A requests Session that applies the connection's per-request settings (timeout, redirects, verify) as
    HttpHook does on each request it sends."""

    def __init__(self, timeout: float | tuple[float, float] | None = None, allow_redirects: bool = True):
        super().__init__()
        self.timeout = timeout
        self.allow_redirects = allow_redirects

    def request(self, method, url, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if not self.allow_redirects:
            kwargs["allow_redirects"] = False
        # requests would let REQUESTS_CA_BUNDLE override the session's own CA bundle; HttpHook passes it too
        if kwargs.get("verify") is None:
            kwargs["verify"] = self.verify
        return super().request(method, url, **kwargs)


def http_session(conn: Connection, own_extras: frozenset[str] = frozenset()) -> ConnectionSession:
    """A requests Session for an http connection, configured from its extras by HttpHook's names:

    - ``verify`` (or ``verify_ssl``): true, false, or the path of a CA bundle (a private CA);
    - ``cert``: the client certificate, a path or [certificate, key];
    - ``proxies`` (or ``proxy``): {"http": ..., "https": ...}, or one URL for both;
    - ``timeout``: seconds, or [connect, read]; ``session.timeout`` (None when unset);
    - ``trust_env`` (false: ignore HTTP(S)_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE and .netrc), ``stream``,
      ``allow_redirects``, ``max_redirects``;
    - any other extra is a header sent with every request, but ``own_extras``: those the caller reads itself.

    Text extras ("false", "30") are read as the values they spell. The connection's login and password are
    not used here: whoever sends the requests decides how to present them (our APIs take a Bearer token).
    """
    extras = conn.extra_dejson
    if as_bool(extras.get("srv_lookup", False)):
        raise ValueError(f"connection '{conn.conn_id}': DNS SRV lookup (extra 'srv_lookup') is not supported")
    timeout = extras.get("timeout")
    session = ConnectionSession(timeout=_timeout(conn, timeout) if timeout is not None else None,
                                allow_redirects=as_bool(extras.get("allow_redirects", True)))
    verify = extras.get("verify", extras.get("verify_ssl", True))
    if isinstance(verify, str) and verify.strip().lower() in TRUE_TEXT + FALSE_TEXT:
        verify = as_bool(verify)  # any other text is the path of a CA bundle
    session.verify = verify
    cert = extras.get("cert")
    session.cert = tuple(cert) if isinstance(cert, list) else cert
    proxies = extras.get("proxies", extras.get("proxy")) or {}
    session.proxies = {"http": proxies, "https": proxies} if isinstance(proxies, str) else dict(proxies)
    session.trust_env = as_bool(extras.get("trust_env", True))
    session.stream = as_bool(extras.get("stream", False))
    if extras.get("max_redirects") is not None:
        session.max_redirects = int(extras["max_redirects"])
    for name, value in extras.items():
        if name in HTTP_SETTINGS or name in own_extras:
            continue
        if isinstance(value, (dict, list)):
            raise ValueError(f"connection '{conn.conn_id}': extra {name!r} is not a setting HttpHook knows, so it "
                             "would be a header, and a header must be text")
        session.headers[name] = str(value)
    return session


def _timeout(conn: Connection, value: Any) -> float | tuple[float, float]:
    try:
        if isinstance(value, (list, tuple)):
            connect, read = value
            return float(connect), float(read)
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"connection '{conn.conn_id}': extra 'timeout' must be seconds or [connect, read], "
                         f"got {value!r}") from None
