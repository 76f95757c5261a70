"""Shared fixtures: one real PostgreSQL server and one small demo world for the whole session.

The server is an embedded PostgreSQL 18 in a temporary folder on a free port,
apart from the one ``make run`` uses, so the suite never touches a user's demo.
With ``HCP_TEST_POSTGRES_BIN`` naming another build's bin folder (Debian's
``/usr/lib/postgresql/15/bin``), the same tests run on that server instead.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack, closing, suppress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import psycopg2
import pytest

# Airflow reads its home when first imported: give the suite a throwaway one.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="hcp-test-airflow-")
os.environ.setdefault("AIRFLOW_HOME", _AIRFLOW_HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(Path(__file__).parents[1] / "dags"))
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
# The key of the keyed hashes of personal data: a test key, so tests can compute the hashes they expect.
TEST_PII_KEY = "haochaping-test-key-not-a-secret"
os.environ["AIRFLOW_CONN_HCP_PII"] = json.dumps({"conn_type": "generic", "password": TEST_PII_KEY})

from hcp import connections, settings, warehouse  # noqa: E402
from hcp_dev.cluster import free_port  # noqa: E402
from hcp_dev.embedded_pg import EmbeddedServer  # noqa: E402
from hcp_dev.simulator import deliveries, hotline_db  # noqa: E402
from hcp_dev.simulator.http_server import ApiServer, PagedApi  # noqa: E402
from hcp_dev.simulator.pc_api import pc_api  # noqa: E402
from hcp_dev.simulator.rectification_api import rectification_api  # noqa: E402
from hcp_dev.simulator.world import build_world  # noqa: E402

# A small world: two months at 40 ratings a day; volume belongs in the benchmark.
TEST_RATINGS_PER_DAY = 40
# A few thousand ratings need the simulator's unscaled bad reviews (about 4%) to reach every work-order path.
TEST_BAD_REVIEW_SCALE = 1.0
NIGHT = date(2026, 10, 31)  # the demo world's last night


def query(conn, sql, *args):
    """Rows of one query, committed: tests read what the loaders committed, never a stale snapshot."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall()
    conn.commit()
    return rows


def mart_fingerprints(conn, tables=None) -> dict[str, tuple]:
    """Rows and an md5 of the sorted rows of each mart (every table in schema marts unless named): equal
    fingerprints are equal marts. data_status is left out: it shows the runs, and a run again is a new run."""
    with conn.cursor() as cur:
        if tables is None:
            cur.execute("select table_name from information_schema.tables "
                        "where table_schema = 'marts' and table_name <> 'data_status' order by 1")
            tables = [t for (t,) in cur.fetchall()]
        prints = {}
        for table in tables:
            cur.execute(f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
                        f"from marts.{table} t")
            prints[table] = cur.fetchone()
    conn.commit()
    return prints


_SUPERSET: dict = {}  # the session's Superset, while it boots beside the other fixtures


def pytest_collection_finish(session):
    """Superset takes a minute or more to prepare: when a test will open the dashboard, start preparing it in the
    background now, while the warehouse and the demo night are made."""
    if session.config.option.collectonly or session.testsfailed:
        return
    if any("superset_server" in getattr(item, "fixturenames", ()) for item in session.items):
        from concurrent.futures import ThreadPoolExecutor

        from hcp_dev import superset

        server = superset.Server(Path(tempfile.mkdtemp(prefix="hcp-test-superset-")), free_port())
        _SUPERSET["server"] = server
        _SUPERSET["booted"] = ThreadPoolExecutor(1, thread_name_prefix="superset").submit(
            lambda: (server.prepare(), server.start()))


def pytest_sessionfinish(session):
    if "server" in _SUPERSET:
        with suppress(TimeoutError):  # let the boot end, however it ends, before stopping it
            _SUPERSET["booted"].exception(timeout=600)
        _SUPERSET["server"].stop()


@pytest.fixture(scope="session")
def superset_server():
    """The session's Superset, once it answers (started by pytest_collection_finish)."""
    _SUPERSET["booted"].result(timeout=900)
    return _SUPERSET["server"]


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest():
    """The manifest hcp_nightly renders its dbt tasks from, as `make` and the image prepare it."""
    from hcp import dbt

    return dbt.ensure_manifest()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    bin_dir = os.environ.get("HCP_TEST_POSTGRES_BIN")
    server = EmbeddedServer(tmp_path_factory.mktemp("pg") / "data", free_port(),
                            **({"bin_dir": Path(bin_dir)} if bin_dir else {})).start()
    yield server
    server.stop()


def _create_database(server: EmbeddedServer, name: str) -> str:
    admin = psycopg2.connect(server.dsn())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"')
    admin.close()
    return json.dumps({"conn_type": "postgres", "host": server.host, "port": server.port,
                       "login": "postgres", "schema": name})


@pytest.fixture(scope="session")
def make_database(pg_server):
    """Make a fresh database on the session's server; returns its Airflow connection JSON."""
    return lambda name: _create_database(pg_server, name)


@pytest.fixture
def warehouse_db(make_database, monkeypatch, request):
    """A fresh warehouse database for one test, as the ``hcp_warehouse`` connection."""
    value = make_database(f"wh_{request.node.name[:40].lower()}".replace("[", "_").replace("]", "_"))
    monkeypatch.setenv(connections.env_var(settings.WAREHOUSE_CONN_ID), value)
    conn = warehouse.connect()
    warehouse.ensure_schema(conn)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def demo_world():
    return build_world(ratings_per_day=TEST_RATINGS_PER_DAY, bad_review_scale=TEST_BAD_REVIEW_SCALE)


# The order a night extracts its sources in: master data first, so the ratings find their agencies.
SOURCE_ORDER = ["master", "pc", "app", "hall", "hotline", "sms", "rectification"]


def run_night(conn, night):
    """Night D as the DAG runs it, in-process: every source extracted and judged, then the dbt build."""
    from hcp import calendar, dbt, validation
    from hcp.sources import SOURCES

    for source in SOURCE_ORDER:
        batch = SOURCES[source].extract(conn, night)
        validation.judge_batch(conn, source, batch.batch_id, night)
    calendar.refresh(conn)
    dbt.run(["build", "--exclude", "resource_type:unit_test"], night=night)


@dataclass
class NightSources:
    """The demo world's sources, served for a test of several nights: the portal and rectification APIs over
    HTTP, the 12345 table in a database of its own, the file drops in folders; each as an Airflow connection."""
    pc: PagedApi
    events: PagedApi
    hotline_conn: object
    set_to: object  # set_to(night) -> {source: folder}: every source as it stands at 02:00 on D+1


@pytest.fixture
def night_sources(demo_world, make_database, tmp_path, monkeypatch, request):
    """serve(pc=None) -> NightSources; pc replaces the world's portal API."""
    stack = ExitStack()

    def serve(pc: PagedApi | None = None) -> NightSources:
        hotline = make_database(f"hotline_{request.node.name[:40].lower()}")
        monkeypatch.setenv("AIRFLOW_CONN_HCP_HOTLINE", hotline)
        hotline_conn = stack.enter_context(closing(psycopg2.connect(
            **connections.postgres_kwargs(connections.parse("hcp_hotline", hotline)))))
        pc_server = stack.enter_context(ApiServer(pc or pc_api(demo_world.ratings, "t")))
        events = stack.enter_context(ApiServer(rectification_api(demo_world, "t")))
        for conn_id, server in (("HCP_PC", pc_server), ("HCP_RECTIFICATION", events)):
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id}", json.dumps(
                {"conn_type": "http", "host": server.base_url, "password": "t"}))

        def set_to(night) -> dict:
            now = datetime.combine(night + timedelta(days=1), time(2))
            pc_server.api.set_clock(now)
            events.api.set_clock(now)
            hotline_db.fill(hotline_conn, demo_world, until=now)
            roots = deliveries.write_all(demo_world, tmp_path, through=night)
            for source, root in roots.items():
                monkeypatch.setenv(f"AIRFLOW_CONN_HCP_{source.upper()}",
                                   json.dumps({"conn_type": "fs", "extra": {"path": str(root)}}))
            return roots
        return NightSources(pc_server.api, events.api, hotline_conn, set_to)
    yield serve
    stack.close()


@pytest.fixture
def fs_connection(monkeypatch, tmp_path):
    """Point an ``fs`` connection at a fresh folder; returns the folder."""
    import json

    def make(conn_id: str):
        root = tmp_path / conn_id
        root.mkdir()
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "fs",
                                                                          "extra": {"path": str(root)}}))
        return root
    return make


@pytest.fixture(scope="session")
def demo_run(make_database, pg_server, tmp_path_factory):
    """The demo night as `make run` runs it, on a warehouse of its own: (run, conn, env, first output).
    Its marts are what the tests of marts read; running it again must change nothing."""
    warehouse_value = make_database("hcp_e2e")
    admin = psycopg2.connect(pg_server.dsn())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute('drop database if exists "airflow_e2e" with (force)')
    admin.close()
    env = {
        **os.environ,
        connections.env_var(settings.WAREHOUSE_CONN_ID): warehouse_value,
        "HCP_AIRFLOW_DB": "airflow_e2e",
        "HCP_LOCAL_DIR": str(tmp_path_factory.mktemp("local")),
        "PYTHONPATH": str(settings.PROJECT_ROOT / "plugins"),
    }
    env.pop("AIRFLOW_HOME", None)  # the command makes its own, as `make run` does

    def run():
        result = subprocess.run(
            [sys.executable, "-m", "hcp_dev.cli", "demo", "--ratings-per-day", str(TEST_RATINGS_PER_DAY),
             "--bad-review-scale", str(TEST_BAD_REVIEW_SCALE)],
            env=env, capture_output=True, text=True, timeout=900,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout

    first_output = run()
    conn = psycopg2.connect(**connections.postgres_kwargs(connections.parse("w", warehouse_value)))
    yield run, conn, env, first_output
    conn.close()
