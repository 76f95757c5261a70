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
from datetime import date
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
