"""One night end to end, by the path `make run` takes: simulator -> Airflow DAG run -> marts -> summary.

The marts are checked against an independent computation from the simulator's
own ratings, and a second run of the same night must leave them unchanged.
"""
import os
import subprocess
import sys
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import psycopg2
import pytest

from hcp import connections, runtime, settings
from hcp.simulator.demo import demo_sources
from hcp.sources import SOURCES
from tests.conftest import TEST_RATINGS_PER_DAY

POINTS = {1: 10, 2: 8, 3: 6, 4: 3, 5: 0}


def expected_agency_days(world):
    """Per agency and Beijing day: ratings that count and their average points, from the world itself."""
    groups = defaultdict(list)
    defaults = defaultdict(int)
    for r in world.ratings:
        if r.channel != "pc":  # the only channel modelled in dbt so far
            continue
        key = (r.org_code, r.rated_at.date())
        if r.is_default:
            defaults[key] += 1
        else:
            groups[key].append(POINTS[r.level])
    keys = set(groups) | set(defaults)
    return {
        k: (len(groups[k]), defaults[k],
            (Decimal(sum(groups[k])) / len(groups[k])).quantize(Decimal("0.0001"), ROUND_HALF_UP) if groups[k] else None)
        for k in keys
    }


@pytest.fixture(scope="module")
def demo_run(make_database, pg_server, tmp_path_factory):
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
            [sys.executable, "-m", "hcp.cli", "demo", "--ratings-per-day", str(TEST_RATINGS_PER_DAY)],
            env=env, capture_output=True, text=True, timeout=900,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout

    conn = psycopg2.connect(**connections.postgres_kwargs(connections.parse("w", warehouse_value)))
    yield run, conn, env
    conn.close()


def source_rows(summary: str) -> dict[str, list[str]]:
    """The summary's table of rows per source and state: source -> its columns."""
    rows = [line.split() for line in summary.splitlines() if line.startswith("  ")]
    return {cells[0]: cells[1:] for cells in rows if cells[0] in SOURCES and len(cells) == 10}


def marts(conn):
    with conn.cursor() as cur:
        cur.execute("select org_code, rating_date, rating_count, default_rating_count, avg_points "
                    "from marts.agency_daily_ratings order by 1, 2")
        return cur.fetchall()


def test_a_night_end_to_end_then_again_with_nothing_changed(demo_run, demo_world):
    run, conn, _ = demo_run
    first_output = run()
    assert "Rows per source and state" in first_output
    assert "Best five agencies of 2026-10" in first_output and "Worst five agencies of 2026-10" in first_output

    first = marts(conn)
    expected = expected_agency_days(demo_world)
    got = {(org, day): (count, defaults, avg) for org, day, count, defaults, avg in first}
    assert got == expected

    with conn.cursor() as cur:
        cur.execute("select date_day, is_workday, calendar_source, is_provisional from marts.dim_dates "
                    "where date_day in ('2026-10-10', '2027-01-04') order by 1")
        assert [row[1:] for row in cur.fetchall()] == [(True, "official", False), (True, "weekday_rule", True)]
        cur.execute("select source, status, rows_read, rows_landed from audit.batches order by source")
        batches = {source: rest for source, *rest in cur.fetchall()}
        pc = sum(1 for r in demo_world.ratings if r.channel == "pc")
        assert batches["pc"] == ["succeeded", pc, pc]
        assert set(batches) == set(SOURCES) and all(b[0] == "succeeded" for b in batches.values())
        cur.execute("select bool_and(success) from audit.validations")
        assert cur.fetchone() == (True,)
    conn.commit()

    second_output = run()
    assert marts(conn) == first
    lines = source_rows(second_output)
    # two batches tonight for each source, none failed: the whole history, then what is new or re-read
    assert all(lines[source][:2] == ["2", "0"] for source in SOURCES)
    # the pc boundary row that the inclusive `since` reads again is the one superseded version
    assert lines["pc"][-1] == "1"


def test_make_night_names_the_source_connections_it_lacks(demo_run):
    _, _, env = demo_run
    env = {k: v for k, v in env.items() if k != "AIRFLOW_CONN_HCP_PC"}
    result = subprocess.run([sys.executable, "-m", "hcp.cli", "night", "--date", "2026-10-31"],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert "hcp_pc (set AIRFLOW_CONN_HCP_PC or add it in Airflow)" in result.stderr


def test_make_night_against_sources_that_only_follow_the_contract(demo_run, demo_world, make_database, pg_server,
                                                                 tmp_path):
    """`make night`'s path: no demo command, only AIRFLOW_CONN_* pointing at sources shaped like domain.md."""
    _, _, env = demo_run
    warehouse_value = make_database("hcp_night")
    server = {"host": pg_server.host, "port": pg_server.port, "user": "postgres"}
    runtime.create_databases({**server, "dbname": "postgres"}, ["hotline_night"])
    with demo_sources(demo_world, tmp_path / "sources", TEST_RATINGS_PER_DAY, server, "hotline_night") as conns:
        result = subprocess.run(
            [sys.executable, "-m", "hcp.cli", "night", "--date", "2026-10-31"],
            env={**env, **conns, connections.env_var(settings.WAREHOUSE_CONN_ID): warehouse_value},
            capture_output=True, text=True, timeout=900,
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = source_rows(result.stdout)
    for source in SOURCES:
        batches, failed, read, landed, passed, quarantined, held = lines[source][:7]
        assert (batches, failed) == ("1", "0") and int(read) == int(landed) > 0, source
        assert int(landed) == int(passed) + int(quarantined) + int(held), source
    # only SMS free text (opt-outs, junk, cases never listed) is quarantined in the demo world
    assert int(lines["sms"][5]) > 0 and all(lines[s][5] == "0" for s in SOURCES if s != "sms")
