"""The 12345 hotline table, in its own PostgreSQL database: rows change and are withdrawn after first read."""
import json
import logging
from datetime import datetime

import psycopg2
import pytest

from hcp import connections, loading
from hcp.sources import hotline
from hcp.timeutil import latest_source_time
from hcp_dev.simulator import hotline_db
from tests.conftest import NIGHT, query


@pytest.fixture
def hotline_source(make_database, monkeypatch, demo_world, pg_server):
    value = json.loads(make_database("hotline_source"))
    # a password the server does not need (trust auth) but the loader must never show
    value["password"] = "hotline-pw-93kd"
    monkeypatch.setenv("AIRFLOW_CONN_HCP_HOTLINE", json.dumps(value))
    conn = psycopg2.connect(**{k: v for k, v in connections.postgres_kwargs(
        connections.parse("hcp_hotline", json.dumps(value))).items() if k != "password"})
    hotline_db.fill(conn, demo_world)
    yield conn
    conn.close()


def test_first_load_resume_then_an_update_and_a_withdrawal(warehouse_db, hotline_source, demo_world):
    rows = [r for r in demo_world.ratings if r.channel == "hotline"]
    first = hotline.extract(warehouse_db, NIGHT)
    assert first.rows_landed == len(rows)
    r = rows[0]
    assert query(warehouse_db, "select satisfaction, visit_time, is_deleted from raw.hotline_evaluations "
                               "where id = %s", r.evaluation_id) == [
        (hotline_db.LEVEL_NAMES[r.level], r.rated_at.strftime("%Y-%m-%dT%H:%M:%S+08:00"), str(r.is_deleted).lower())]

    resumed = hotline.extract(warehouse_db, NIGHT)
    latest = max(x.updated_at for x in rows)
    overlap = [x for x in rows if x.updated_at >= latest - hotline.OVERLAP]
    assert resumed.rows_read == len(overlap)  # only the overlap before the watermark is read again

    later = latest.replace(microsecond=0) + (datetime(2026, 11, 2) - datetime(2026, 11, 1))
    hotline_db.change(hotline_source, rows[1].evaluation_id, later, satisfaction="不满意")
    hotline_db.change(hotline_source, rows[2].evaluation_id, later, deleted=True)
    changed = hotline.extract(warehouse_db, NIGHT)
    # the two changed rows, and the overlap before the old watermark once more
    assert changed.rows_read == len({x.evaluation_id for x in overlap} | {rows[1].evaluation_id,
                                                                          rows[2].evaluation_id})
    versions = query(warehouse_db, "select id, satisfaction, is_deleted from raw.hotline_evaluations "
                                   "where _batch_id = %s order by id", changed.batch_id)
    assert (rows[1].evaluation_id, "不满意", "false") in versions or (rows[1].evaluation_id, "不满意", "true") in versions
    assert any(v[0] == rows[2].evaluation_id and v[2] == "true" for v in versions)


def test_a_source_that_is_down_fails_alone_without_its_password(warehouse_db, monkeypatch, caplog):
    monkeypatch.setenv("AIRFLOW_CONN_HCP_HOTLINE", json.dumps(
        {"conn_type": "postgres", "host": "127.0.0.1", "port": 1, "login": "x", "password": "hotline-pw-93kd",
         "schema": "nowhere"}))
    with caplog.at_level(logging.DEBUG), pytest.raises(psycopg2.OperationalError) as failure:
        hotline.extract(warehouse_db, NIGHT)
    assert "hotline-pw-93kd" not in str(failure.value) and "hotline-pw-93kd" not in caplog.text
    assert query(warehouse_db, "select count(*) from audit.watermarks") == [(0,)]


def test_pages_land_values_as_written_and_resume_after_the_last_row(warehouse_db, hotline_source):
    """Pages come as COPY text out of the source: times to the microsecond, NULLs, tabs and newlines in text
    land as they were written, and each page starts after the last row of the one before."""
    with hotline_source.cursor() as cur:
        cur.execute("delete from public.hotline_evaluation")
        cur.execute("""
            insert into public.hotline_evaluation
            select 900000000 + n, 'GD' || n, 'C' || n, null, E'dept\\t' || n, E'area\\n' || n, 'P1', null, '满意',
                   null, timestamptz '2026-10-31 10:00:00.000120+08' + (n / 2) * interval '1 second', '13800000000',
                   n % 2 = 0
            from generate_series(1, 25) as n""")
    hotline_source.commit()
    pages = list(hotline.read_pages(hotline_source, None, latest_source_time(NIGHT), page_rows=4))
    assert [p.label for p in pages][:2] == ["rows 1-4", "rows 5-8"] and pages[-1].label == "rows 25-25"
    assert pages[0].watermark == "2026-10-31T10:00:02.000120+08:00"  # the 4th row's: n = 4, 2 s on
    batch = loading.land_batch(warehouse_db, source=hotline.SOURCE, night=NIGHT,
                               read_pages=lambda since: hotline.read_pages(hotline_source, since,
                                                                                  latest_source_time(NIGHT), page_rows=4))
    assert batch.rows_landed == 25 and batch.watermark_after == "2026-10-31T10:00:12.000120+08:00"
    assert query(warehouse_db, "select count(distinct id), max(_line_no) from raw.hotline_evaluations "
                               "where _batch_id = %s", batch.batch_id) == [(25, 25)]
    assert query(warehouse_db, "select item_code, dept_code, area_code, modified_time, is_deleted, _source_page "
                               "from raw.hotline_evaluations where id = '900000007'") == [
        (None, "dept\t7", "area\n7", "2026-10-31T10:00:03.000120+08:00", "false", "rows 5-8")]


def test_a_clock_out_of_range_neither_fails_the_load_nor_moves_the_watermark_past_the_night(warehouse_db,
                                                                                           hotline_source):
    """A row changed after the end of D+1 (a clock far ahead, 'infinity') is read by a later night, not this one;
    one changed at '-infinity' is read, and leaves the watermark where the real times put it."""
    with hotline_source.cursor() as cur:
        cur.execute("delete from public.hotline_evaluation")
        cur.execute("""
            insert into public.hotline_evaluation (id, work_order_no, case_no, satisfaction, visit_time,
                                                   modified_time, is_deleted)
            values (1, 'GD1', 'C1', '满意', '2026-10-31 09:00+08', '-infinity', false),
                   (2, 'GD2', 'C2', '满意', '2026-10-31 09:00+08', '2026-10-31 09:05+08', false),
                   (3, 'GD3', 'C3', '满意', '2026-10-31 09:00+08', '2026-11-02 00:10+08', false),
                   (4, 'GD4', 'C4', '满意', '2026-10-31 09:00+08', '2026-11-02 00:11+08', false),
                   (5, 'GD5', 'C5', '满意', '2026-10-31 09:00+08', '2099-01-01 00:00+08', false),
                   (6, 'GD6', 'C6', '满意', 'infinity', 'infinity', false)""")
    hotline_source.commit()
    batch = loading.land_batch(warehouse_db, source=hotline.SOURCE, night=NIGHT,
                               read_pages=lambda since: hotline.read_pages(hotline_source, since,
                                                                           latest_source_time(NIGHT), page_rows=2))
    assert query(warehouse_db, "select id from raw.hotline_evaluations order by id") == [("1",), ("2",), ("3",)]
    assert batch.watermark_after == "2026-11-02T00:10:00+08:00"
