"""Every night of the demo world, night after night, with files delivered daily: reconciliation holds on each,
and the marts built incrementally over the last nights equal a full refresh."""
import csv
import json
from dataclasses import replace
from datetime import datetime, time, timedelta

import psycopg2
import pytest

from hcp import calendar, connections, dbt, validation
from hcp.sources import SOURCES
from hcp_dev.simulator import deliveries as sim
from hcp_dev.simulator import hotline_db
from hcp_dev.simulator.http_server import ApiServer
from hcp_dev.simulator.pc_api import pc_api
from hcp_dev.simulator.rectification_api import rectification_api
from tests.conftest import mart_fingerprints, query

ORDER = ["master", "pc", "app", "hall", "hotline", "sms", "rectification"]  # as the DAG's dependencies allow
INCREMENTAL_NIGHTS = 4  # the marts are built on each of the last nights: the first full, the rest incremental
FACTS = ("fct_ratings", "fct_bad_reviews", "agency_performance", "staff_performance")


@pytest.fixture
def daily_sources(demo_world, make_database, fs_connection, monkeypatch):
    roots = {name: fs_connection(f"hcp_{name}") for name in ("app", "hall", "sms", "master")}
    hotline = json.loads(make_database("hotline_nightly"))
    monkeypatch.setenv("AIRFLOW_CONN_HCP_HOTLINE", json.dumps(hotline))
    conn = psycopg2.connect(**connections.postgres_kwargs(connections.parse("hcp_hotline", json.dumps(hotline))))
    with ApiServer(pc_api(demo_world.ratings, "t")) as pc, ApiServer(rectification_api(demo_world, "t")) as events:
        for conn_id, server in (("HCP_PC", pc), ("HCP_RECTIFICATION", events)):
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id}", json.dumps({"conn_type": "http", "host": server.base_url,
                                                                      "password": "t"}))

        def run_time(night):
            """The sources as they stand when night D's run starts, at 02:00 on D+1."""
            now = datetime.combine(night + timedelta(days=1), time(2))
            pc.api.set_clock(now)
            events.api.set_clock(now)
            hotline_db.fill(conn, demo_world, until=now)
        yield roots, run_time
    conn.close()


def test_every_night_reconciles_and_incremental_marts_equal_a_full_refresh(warehouse_db, demo_world, daily_sources):
    roots, run_time = daily_sources
    calendar.refresh(warehouse_db)
    dbt.run(["seed"], night=demo_world.end)
    night = demo_world.start
    while night <= demo_world.end:
        run_time(night)
        sim.write_app_day(demo_world, roots["app"], night)
        sim.write_hall_day(demo_world, roots["hall"], night)
        sim.write_sms_day(demo_world, roots["sms"], night)
        sim.write_master_day(demo_world, roots["master"], night)
        for source in ORDER:
            batch = SOURCES[source].extract(warehouse_db, night)
            validation.judge_batch(warehouse_db, source, batch.batch_id, night)
        if night > demo_world.end - timedelta(days=INCREMENTAL_NIGHTS):
            dbt.run(["run"], night=night)
        night += timedelta(days=1)
    with warehouse_db.cursor() as cur:
        cur.execute("select count(*), count(*) filter (where balanced) from audit.reconciliation")
        batches, balanced = cur.fetchone()
        cur.execute("select count(*) from audit.batch_alerts where policy = 'fail'")
        failing = cur.fetchone()[0]
        cur.execute("select released_as, count(*) from audit.held group by 1 order by 1")
        held = dict(cur.fetchall())
    nights = (demo_world.end - demo_world.start).days + 1
    assert batches == balanced == nights * len(ORDER)
    assert failing == 0
    # replies whose case is listed days late were held, then passed; cases never listed ended in quarantine
    assert held.get("passed", 0) > 0 and held.get("quarantined", 0) > 0

    # One more night lists a case again, corrected: completed ten days later than first listed; lists another
    # again with no completed date at all; and a hall delivers a rating again, its time corrected ten days
    # later. The days lie weeks before the nights any other change touches. The night must count each on its
    # new day and no more on its old one.
    after = demo_world.end + timedelta(days=1)
    old_day, new_day = demo_world.start + timedelta(days=10), demo_world.start + timedelta(days=20)
    relisted = {c.case_no for c in demo_world.relistings}
    moved, uncompleted = [c for c in demo_world.cases
                          if c.listed_on == c.completed_at.date() == old_day and c.case_no not in relisted][:2]

    def cases_completed():
        return dict(query(warehouse_db, "select completed_date, sum(cases_completed)::int "
                                        "from intermediate.int_case_counts_daily "
                                        "where org_code in %s and completed_date in (%s, %s) group by 1",
                          (moved.org_code, uncompleted.org_code), old_day, new_day))

    rating = next(r for r in demo_world.ratings_on("hall", old_day) if r.level < 4)

    def ratings_counted():
        return dict(query(warehouse_db, "select rated_date, sum(rating_count)::int "
                                        "from intermediate.int_rating_counts_daily "
                                        "where org_code = %s and rated_date in (%s, %s) group by 1",
                          rating.org_code, old_day, new_day))

    before, ratings_before = cases_completed(), ratings_counted()
    sim.write_hall_file(roots["hall"] / f"hall_{after:%Y%m%d}_{rating.hall_code}.csv",
                        [sim.hall_row(replace(rating, rated_at=rating.rated_at + (new_day - old_day)))])
    folder = sim.write_master_day(demo_world, roots["master"], after)
    with (folder / "cases.csv").open("a", encoding="utf-8", newline="") as cases:
        csv.writer(cases, lineterminator="\n").writerows([
            sim.case_row(replace(moved, completed_at=moved.completed_at + (new_day - old_day))),
            sim.case_row(replace(uncompleted, completed_at=None)),
        ])
    for source in ("master", "hall"):
        batch = SOURCES[source].extract(warehouse_db, after)
        validation.judge_batch(warehouse_db, source, batch.batch_id, after)
    dbt.run(["run"], night=after)
    assert cases_completed() == {old_day: before[old_day] - 2, new_day: before.get(new_day, 0) + 1}
    assert ratings_counted() == {old_day: ratings_before[old_day] - 1, new_day: ratings_before.get(new_day, 0) + 1}

    # late versions, follow-ups, events, released SMS replies and corrected listings all reached the
    # incremental path; a full refresh of the same night must give the same marts
    incremental = mart_fingerprints(warehouse_db, FACTS)
    touched = "select count(*) from intermediate.int_ratings_touched where channel = 'hall' and evaluation_id = %s"
    assert query(warehouse_db, touched, rating.evaluation_id) == [(1,)]
    dbt.run(["run", "--full-refresh"], night=after)
    assert mart_fingerprints(warehouse_db, FACTS) == incremental
    # a full refresh builds every model whole: the list of what the night touched is left empty
    assert query(warehouse_db, "select count(*) from intermediate.int_ratings_touched") == [(0,)]
    assert incremental["fct_ratings"][0] > 0 and incremental["fct_bad_reviews"][0] > 0
