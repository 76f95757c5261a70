"""One night end to end, by the path `make run` takes: simulator -> Airflow DAG run -> marts -> summary.

The marts are checked against an independent computation from the simulator's
own ratings, and a second run of the same night must leave them unchanged.
"""
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hcp.sources import SOURCES
from hcp.timeutil import parse_iso_to_beijing
from hcp_dev import runtime
from hcp_dev.simulator.demo import demo_sources
from hcp_dev.simulator.rectification_api import build_events
from tests.conftest import NIGHT, TEST_RATINGS_PER_DAY, mart_fingerprints

POINTS = {1: 10, 2: 8, 3: 6, 4: 3, 5: 0}


def expected_agency_months(world, night):
    """Per agency and Beijing month: ratings that count, default ratings and average points, from the world's
    own ratings and events (docs/contract.md §8), as the demo's last night knows them."""
    end_of_night = datetime.combine(night + timedelta(days=1), time.min)
    struck_out = {(e["channel"], e["evaluationId"]) for e in build_events(world)
                  if e["eventType"] == "appeal_upheld" and parse_iso_to_beijing(e["eventTime"]) < end_of_night}
    followed_up = {(r.channel, r.case_no) for r in world.ratings if r.seq == 2}
    cases = {c.case_no: c for c in world.cases}
    points, defaults = defaultdict(list), defaultdict(int)
    for r in world.ratings:
        if r.is_deleted or (r.channel, r.evaluation_id) in struck_out:
            continue
        if r.seq == 1 and (r.channel, r.case_no) in followed_up:
            continue
        if r.channel == "sms":  # a reply counts once a snapshot within 7 days lists its case
            listed = cases[r.case_no].listed_on
            if listed is None or listed > night or listed > r.rated_at.date() + timedelta(days=7):
                continue
        key = (r.org_code, r.rated_at.date().replace(day=1))
        if r.is_default:
            defaults[key] += 1
        else:
            points[key].append(POINTS[r.level])
    return {
        k: (len(points[k]), defaults[k],
            (Decimal(sum(points[k])) / len(points[k])).quantize(Decimal("0.0001"), ROUND_HALF_UP) if points[k] else None)
        for k in set(points) | set(defaults)
    }


def source_rows(summary: str) -> dict[str, list[str]]:
    """The summary's table of rows per source and state: source -> its columns."""
    rows = [line.split() for line in summary.splitlines() if line.startswith("  ")]
    return {cells[0]: cells[2:] for cells in rows if cells[0] in SOURCES and len(cells) == 11}


def test_a_night_end_to_end_then_again_with_nothing_changed(demo_run, demo_world):
    run, conn, _, first_output = demo_run
    assert "Rows per source and state" in first_output
    assert "Top five agencies of 2026-10" in first_output and "Bad reviews" in first_output

    first = mart_fingerprints(conn)
    assert first["fct_ratings"][0] > 0 and first["agency_performance"][0] > 0
    with conn.cursor() as cur:
        cur.execute("select org_code, period_start, rating_count, default_rating_count, round(avg_points, 4) "
                    "from marts.agency_performance where period_grain = 'month' "
                    "and (rating_count > 0 or default_rating_count > 0)")
        got = {(org, month): (count, defaults, avg) for org, month, count, defaults, avg in cur.fetchall()}
    assert got == expected_agency_months(demo_world, NIGHT)

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
        cur.execute("select status, failed_sources, stages ? 'dbt_build', summary like '%%Rows per source%%' "
                    "from audit.runs")
        assert cur.fetchall() == [("succeeded", [], True, True)]
    conn.commit()

    rows = source_rows(first_output)
    for source in SOURCES:
        batches, failed, read, landed, passed, quarantined, held = rows[source][:7]
        assert (batches, failed) == ("1", "0") and int(read) == int(landed) > 0, source
        assert int(landed) == int(passed) + int(quarantined) + int(held), source
    # only SMS free text (opt-outs, junk, cases never listed) is quarantined in the demo world
    assert int(rows["sms"][5]) > 0 and all(rows[s][5] == "0" for s in SOURCES if s != "sms")
    # the portal's API delivers each rating once, as its latest version: all current, none superseded
    assert rows["pc"][7:] == [str(pc), "0"]
    # names beside codes: each source with its Chinese name, the month's top five agencies with theirs
    lines = [line.split() for line in first_output.splitlines()]
    assert {cells[0]: cells[1] for cells in lines if len(cells) == 11 and cells[0] in SOURCES} == {
        name: source.name_zh for name, source in SOURCES.items()}
    with conn.cursor() as cur:
        cur.execute("select org_code, org_name from marts.dim_agencies")
        names = dict(cur.fetchall())
    conn.commit()
    top = next(i for i, line in enumerate(first_output.splitlines()) if "Top five agencies of 2026-10" in line)
    assert [cells[1] for cells in lines[top + 1:top + 6]] == [names[cells[0]] for cells in lines[top + 1:top + 6]]


def test_the_same_night_again_by_make_night_changes_no_mart(demo_run, demo_world, pg_server, tmp_path):
    """The night again, by `make night`'s path: no demo command, only AIRFLOW_CONN_* pointing at sources shaped
    as docs/contract.md §4-§6 describes them (the same world, served afresh). Nothing new arrives, so no mart may
    change."""
    _, conn, env, _ = demo_run
    first = mart_fingerprints(conn)
    server = {"host": pg_server.host, "port": pg_server.port, "user": "postgres"}
    runtime.create_databases({**server, "dbname": "postgres"}, ["hotline_night"])
    with demo_sources(demo_world, tmp_path / "sources", TEST_RATINGS_PER_DAY, server, "hotline_night") as conns:
        result = subprocess.run([sys.executable, "-m", "hcp_dev.cli", "night", "--date", NIGHT.isoformat()],
                                env={**env, **conns}, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert mart_fingerprints(conn) == first
    lines = source_rows(result.stdout)
    # two batches tonight for each source, none failed: the whole history, then what is new or re-read
    assert all(lines[source][:2] == ["2", "0"] for source in SOURCES)
    # the pc boundary row that the inclusive `since` reads again is the one superseded version of the night's
    assert lines["pc"][-2:] == [str(sum(1 for r in demo_world.ratings if r.channel == "pc")), "1"]


def test_make_night_names_the_source_connections_it_lacks(demo_run):
    env = demo_run[2]
    env = {k: v for k, v in env.items() if k != "AIRFLOW_CONN_HCP_PC"}
    result = subprocess.run([sys.executable, "-m", "hcp_dev.cli", "night", "--date", "2026-10-31"],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert "connection 'hcp_pc' is not defined: set AIRFLOW_CONN_HCP_PC or add it in Airflow" in result.stderr
    assert "Traceback" not in result.stderr
