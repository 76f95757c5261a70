"""Connections as operators write them: JSON or URI, the scheme wherever Airflow's HTTP provider accepts it, and
their extras read as Airflow's postgres and HTTP providers read them: the same libpq options reach psycopg2,
SQLAlchemy (GX) and dbt; the same TLS, proxy and timeout settings reach the HTTP session."""
import ctypes
import glob
import json
import os

import psycopg2
import pytest
import requests
import yaml
from requests.adapters import BaseAdapter
from sqlalchemy.engine import make_url

from hcp import connections, dbt, pii, settings
from hcp.http_api import PagedClient


def conn_json(extra: dict) -> str:
    return json.dumps({"conn_type": "postgres", "host": "db.example", "port": 6432, "login": "reader",
                       "password": "p@ss w/rd", "schema": "hcp", "extra": extra})


def conn(extra: dict):
    return connections.parse("c", conn_json(extra))


# every libpq option a government warehouse may need, and extras PostgresHook keeps for itself
TLS = {"sslmode": "verify-full", "sslrootcert": "/etc/hcp/ca.pem", "sslcert": "/etc/hcp/client.pem",
       "sslkey": "/etc/hcp/client.key", "sslcrl": "/etc/hcp/ca.crl", "options": "-c statement_timeout=600000",
       "application_name": "haochaping-test", "connect_timeout": 7, "keepalives_idle": 30,
       "target_session_attrs": "read-write"}
HOOK_ONLY = {"cursor": "dictcursor", "sqlalchemy_scheme": "postgresql+psycopg2", "aws_conn_id": "aws_default",
             "sqlalchemy_query": {"pool_recycle_hint": "1"}}


@pytest.mark.parametrize("value, expected", [
    ('{"conn_type": "http", "host": "https://zwfw.example.gov.cn/gw", "password": "t"}', "https://zwfw.example.gov.cn/gw"),
    ('{"conn_type": "http", "host": "10.1.2.3", "port": 8443, "schema": "https", "password": "t"}', "https://10.1.2.3:8443"),
    ('{"conn_type": "http", "host": "127.0.0.1", "port": 8080}', "http://127.0.0.1:8080"),
    ("https://:t@zwfw.example.gov.cn", "https://zwfw.example.gov.cn"),
])
def test_http_base_url(value, expected):
    assert connections.http_base_url(connections.parse("hcp_pc", value)) == expected


def test_postgres_uri_names_the_database_in_schema():
    conn = connections.parse("hcp_hotline", "postgresql://reader:p%40ss@db.example:6432/hotline")
    assert connections.postgres_kwargs(conn) == {"host": "db.example", "port": 6432, "user": "reader",
                                                 "dbname": "hotline", "password": "p@ss"}


def test_a_missing_connection_says_how_to_set_it(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_HCP_NOWHERE", raising=False)
    with pytest.raises(connections.MissingConnection, match="AIRFLOW_CONN_HCP_NOWHERE"):
        connections.get_connection("hcp_nowhere")


# ---------- postgres

def test_every_libpq_extra_reaches_psycopg2_and_the_hooks_own_do_not():
    kwargs = connections.postgres_kwargs(conn({**TLS, **HOOK_ONLY, "keepalives": True, "sslsni": "0"}))
    assert kwargs == {"host": "db.example", "port": 6432, "user": "reader", "password": "p@ss w/rd", "dbname": "hcp",
                      **TLS, "keepalives": 1, "sslsni": "0"}  # a JSON true is libpq's 1


def test_uri_extras_arrive_as_text_and_reach_psycopg2_as_text():
    uri = ("postgresql://reader:p%40ss@db.example:6432/hotline?sslmode=verify-full&sslrootcert=%2Fetc%2Fhcp%2Fca.pem"
           "&connect_timeout=7&cursor=dictcursor")
    kwargs = connections.postgres_kwargs(connections.parse("hcp_hotline", uri))
    assert kwargs == {"host": "db.example", "port": 6432, "user": "reader", "password": "p@ss", "dbname": "hotline",
                      "sslmode": "verify-full", "sslrootcert": "/etc/hcp/ca.pem", "connect_timeout": "7"}
    # libpq itself reads them (an option it does not know would fail here, named)
    assert psycopg2.extensions.parse_dsn(psycopg2.extensions.make_dsn(**kwargs))["sslmode"] == "verify-full"


def test_the_hooks_own_extras_are_the_installed_postgres_hooks():
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    assert connections.POSTGRES_HOOK_EXTRAS == PostgresHook.ignored_extra_options


def test_postgres_hook_would_pass_psycopg2_the_same_options():
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    c = conn({**TLS, **HOOK_ONLY})
    hook = PostgresHook(postgres_conn_id="c")
    hook._connection = c  # our lookup's connection; the hook's own finds none outside a task
    passed = {}
    hook._create_connection = passed.update
    hook.get_conn()
    passed.pop("cursor_factory", passed.pop("row_factory", None))  # the hook's "cursor" extra, not libpq's
    assert passed == connections.postgres_kwargs(c)


def test_iam_is_refused_not_ignored():
    with pytest.raises(ValueError, match="IAM"):
        connections.postgres_kwargs(conn({"iam": "true"}))
    assert "iam" not in connections.postgres_kwargs(conn({"iam": "false"}))


def test_the_sqlalchemy_url_connects_as_psycopg2_would():
    from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2

    c = conn({**TLS, **HOOK_ONLY})
    url = make_url(connections.sqlalchemy_url(c))
    _, connect_kwargs = PGDialect_psycopg2().create_connect_args(url)
    expected = {k: str(v) if k not in ("port",) else v for k, v in connections.postgres_kwargs(c).items()}
    assert connect_kwargs == {**expected, "pool_recycle_hint": "1"}  # and sqlalchemy_query, as the hook adds it
    assert url.password == "p@ss w/rd" and url.query["options"] == "-c statement_timeout=600000"
    assert make_url(connections.sqlalchemy_url(c, dbname="airflow")).database == "airflow"


def test_a_connection_without_extras_keeps_its_plain_url():
    plain = connections.parse("w", '{"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", '
                                   '"schema": "hcp"}')
    assert connections.sqlalchemy_url(plain) == "postgresql+psycopg2://postgres@127.0.0.1:5432/hcp"


# ---------- dbt

def libpq_environment_variables() -> dict[str, str | None]:
    """Each libpq option of psycopg2's own libpq (the one dbt connects with) and its environment variable."""

    class Option(ctypes.Structure):
        _fields_ = [("keyword", ctypes.c_char_p), ("envvar", ctypes.c_char_p), ("compiled", ctypes.c_char_p),
                    ("val", ctypes.c_char_p), ("label", ctypes.c_char_p), ("dispchar", ctypes.c_char_p),
                    ("dispsize", ctypes.c_int)]

    libs = glob.glob(os.path.join(os.path.dirname(psycopg2.__path__[0]), "psycopg2_binary.libs", "libpq-*.so*"))
    if not libs:
        pytest.skip("psycopg2 is not the binary wheel: no bundled libpq to ask")
    libpq = ctypes.CDLL(libs[0])
    libpq.PQconndefaults.restype = ctypes.POINTER(Option)
    libpq.PQconninfoFree.argtypes = [ctypes.POINTER(Option)]
    options = libpq.PQconndefaults()
    found, i = {}, 0
    while options[i].keyword:
        found[options[i].keyword.decode()] = options[i].envvar.decode() if options[i].envvar else None
        i += 1
    libpq.PQconninfoFree(options)
    return found


def test_every_libpq_option_has_a_way_into_dbt_or_is_named():
    libpq = libpq_environment_variables()
    assert all(libpq[option] == var for option, var in dbt.LIBPQ_ENV.items())
    assert set(dbt.PROFILE_OPTIONS) <= set(libpq)
    through_neither = set(libpq) - set(connections.POSTGRES_FIELDS) - set(dbt.PROFILE_OPTIONS) - set(dbt.LIBPQ_ENV) \
        - {"options"}
    # these libpq has no variable for; profile_env names them in its error
    assert through_neither == {"keepalives", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                               "sslpassword", "replication", "fallback_application_name"}


def dbt_connect_kwargs(env: dict[str, str], monkeypatch) -> dict:
    """What dbt-postgres passes to psycopg2.connect when it renders profiles.yml in ``env``."""
    from dbt.adapters.contracts.connection import Connection
    from dbt.adapters.postgres.connections import PostgresConnectionManager
    from dbt.config.profile import Profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    set_invocation_context(os.environ)
    raw = yaml.safe_load((settings.DBT_PROJECT_DIR / "profiles.yml").read_text())
    _, rendered = Profile.render_profile(raw["haochaping"], "haochaping", None, ProfileRenderer({}))
    rendered.pop("threads")
    credentials = Profile._credentials_from_profile(rendered, "haochaping", "warehouse")
    passed = {}
    monkeypatch.setattr(psycopg2, "connect", lambda **kwargs: passed.update(kwargs))
    PostgresConnectionManager.open(Connection(type="postgres", name="probe", credentials=credentials))
    return passed


def test_dbt_connects_with_every_libpq_option_of_the_connection(monkeypatch):
    monkeypatch.setenv(connections.env_var(settings.WAREHOUSE_CONN_ID), conn_json({**TLS, **HOOK_ONLY}))
    env = dbt.profile_env()
    passed = dbt_connect_kwargs(env, monkeypatch)
    kwargs = connections.postgres_kwargs(connections.get_connection(settings.WAREHOUSE_CONN_ID))
    # the profile's fields, as psycopg2.connect receives them from dbt
    assert passed == {k: v for k, v in kwargs.items() if k not in ("sslcrl", "target_session_attrs", "options")}
    # the rest as libpq's variables; the connection's options beside the hashing key's pads
    assert (env["PGSSLCRL"], env["PGTARGETSESSIONATTRS"]) == ("/etc/hcp/ca.crl", "read-write")
    assert env["PGOPTIONS"] == "-c statement_timeout=600000 " + pii.session_options(pii.key())


def test_dbt_keeps_its_defaults_for_a_connection_without_extras(monkeypatch):
    monkeypatch.setenv(connections.env_var(settings.WAREHOUSE_CONN_ID), json.dumps(
        {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": "hcp"}))
    env = dbt.profile_env()
    assert not any(name.startswith("PG") and name != "PGOPTIONS" for name in env)
    assert env["PGOPTIONS"] == pii.session_options(pii.key())
    assert dbt_connect_kwargs(env, monkeypatch) == {"dbname": "hcp", "user": "postgres", "host": "127.0.0.1",
                                                     "password": "", "port": 5432, "connect_timeout": 10,
                                                     "application_name": "dbt"}


def test_an_option_dbt_cannot_take_is_named(monkeypatch):
    monkeypatch.setenv(connections.env_var(settings.WAREHOUSE_CONN_ID), conn_json({"keepalives": "1",
                                                                                  "tcp_user_timeout": 9000}))
    with pytest.raises(dbt.UnsupportedByDbt, match="keepalives, tcp_user_timeout"):
        dbt.profile_env()


# ---------- http

def http(extra: dict):
    return connections.parse("hcp_pc", json.dumps({"conn_type": "http", "host": "https://zwfw.example.gov.cn",
                                                   "password": "t0ken", "extra": extra}))


HTTP_EXTRAS = {"verify": "/etc/hcp/ca.pem", "cert": ["/etc/hcp/client.pem", "/etc/hcp/client.key"],
               "proxies": {"https": "http://proxy.example.gov.cn:3128"}, "timeout": 45, "trust_env": False,
               "max_redirects": 3, "X-Gateway-App": "haochaping"}


def test_http_session_follows_the_extras():
    session = connections.http_session(http(HTTP_EXTRAS))
    assert (session.verify, session.cert, session.proxies, session.timeout, session.trust_env,
            session.max_redirects) == ("/etc/hcp/ca.pem", ("/etc/hcp/client.pem", "/etc/hcp/client.key"),
                                       {"https": "http://proxy.example.gov.cn:3128"}, 45.0, False, 3)
    assert session.headers["X-Gateway-App"] == "haochaping" and "t0ken" not in str(session.headers)


@pytest.mark.parametrize("extra, verify", [
    ({}, True), ({"verify": "false"}, False), ({"verify": "False"}, False), ({"verify": "true"}, True),
    ({"verify": False}, False), ({"verify_ssl": "0"}, False), ({"verify": "/etc/hcp/ca.pem"}, "/etc/hcp/ca.pem"),
])
def test_verify_is_a_yes_no_or_a_ca_bundle(extra, verify):
    got = connections.http_session(http(extra)).verify
    assert (got, type(got)) == (verify, type(verify))


def test_uri_extras_are_read_as_what_they_spell():
    c = connections.parse("hcp_pc", "https://:t0ken@zwfw.example.gov.cn?verify=false&timeout=5&trust_env=false"
                                    "&proxy=http%3A%2F%2Fproxy.example.gov.cn%3A3128&allow_redirects=false")
    session = connections.http_session(c)
    assert (session.verify, session.timeout, session.trust_env, session.allow_redirects) == (False, 5.0, False, False)
    assert session.proxies == {"http": "http://proxy.example.gov.cn:3128", "https": "http://proxy.example.gov.cn:3128"}
    assert connections.http_session(http({"timeout": [3, 120]})).timeout == (3.0, 120.0)
    with pytest.raises(ValueError, match="timeout"):
        connections.http_session(http({"timeout": "soon"}))


def test_http_hook_would_set_up_the_same_session():
    from airflow.providers.http.hooks.http import HttpHook

    c = http(HTTP_EXTRAS)
    hook = HttpHook(method="GET", http_conn_id="hcp_pc")
    hook.get_connection = lambda conn_id: c  # our lookup's connection
    theirs, ours = hook.get_conn(), connections.http_session(c)
    assert (ours.verify, ours.proxies, ours.trust_env, ours.stream, ours.max_redirects) == \
        (theirs.verify, theirs.proxies, theirs.trust_env, theirs.stream, theirs.max_redirects)
    assert ours.cert == tuple(theirs.cert) and ours.timeout == hook.merged_extra["timeout"]
    assert dict(ours.headers) == dict(theirs.headers)


class Recording(BaseAdapter):
    """Answers every request with 200 and an empty page; keeps what requests would have sent it with."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def send(self, request, **kwargs):
        self.sent.append(kwargs)
        response = requests.Response()
        response.status_code, response._content, response.url = 200, b'{"data": []}', request.url
        return response

    def close(self):
        pass


def test_the_connections_ca_bundle_wins_over_requests_ca_bundle(monkeypatch):
    # requests lets REQUESTS_CA_BUNDLE replace a session's own verify; HttpHook (and we) pass it with each request
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    session = connections.http_session(http({"verify": "/etc/hcp/ca.pem", "timeout": [3, 120]}))
    adapter = Recording()
    session.mount("https://", adapter)
    client = PagedClient("https://zwfw.example.gov.cn", "t0ken", "/api/evaluations", session=session)
    assert client.get({}) == ({"data": []}, 12)
    assert (adapter.sent[0]["verify"], adapter.sent[0]["timeout"]) == ("/etc/hcp/ca.pem", (3.0, 120.0))


def test_paged_client_keeps_its_own_timeout_when_the_connection_sets_none():
    session = connections.http_session(http({}))
    adapter = Recording()
    session.mount("https://", adapter)
    PagedClient("https://zwfw.example.gov.cn", "t0ken", "/api/evaluations", session=session, timeout=12).get({})
    assert adapter.sent[0]["timeout"] == (5.0, 12)
