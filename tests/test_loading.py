"""Landing is all or nothing: a killed load leaves no rows, no watermark move, and a rerun completes."""
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date

import pytest

from hcp import json_items, loading

COLUMNS = ["evaluation_id", "satisfaction", "writing_evaluation"]


def pages(n_pages, rows_per_page=100, pause_after=None):
    def read(watermark):
        for p in range(n_pages):
            if pause_after is not None and p == pause_after:
                time.sleep(60)  # killed here
            rows = [[i + 1, f"E{p:03d}{i:04d}", "5", "多行\\n评价\ttab"] for i in range(rows_per_page)]
            yield loading.Page("raw.pc_evaluations", COLUMNS, f"page {p + 1}", rows, 1000,
                               f"2026-10-31T10:{p:02d}:00+08:00")
    return read


def fetch(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    conn.rollback()  # a new snapshot next time: pg_stat_activity is frozen within a transaction
    return rows


def test_text_is_landed_verbatim(warehouse_db):
    result = loading.land_batch(warehouse_db, source="pc", night=date(2026, 10, 31), read_pages=pages(2))
    assert (result.rows_read, result.rows_landed, result.bytes_read) == (200, 200, 2000)
    assert fetch(warehouse_db, "select distinct writing_evaluation from raw.pc_evaluations") == [("多行\\n评价\ttab",)]
    assert fetch(warehouse_db, "select max(_line_no), count(distinct _source_page) from raw.pc_evaluations") == [(100, 2)]


@pytest.mark.parametrize("values", [
    ["E1", None, r"\N"],  # the text \N beside a NULL: one backslash per NULL would not tell them apart
    ["E2", "5", "tab\there"],
    ["E3", None, "line\r\nbreak\n"],
    ["E4", 5, "back\\slash"],
    ["E5", None, None],
], ids=["null-beside-backslash-n", "tab", "newlines", "int-and-backslash", "nulls"])
def test_values_copy_must_escape_land_as_given(warehouse_db, values):
    def read(watermark):
        yield loading.Page("raw.pc_evaluations", COLUMNS, "page 1", [[1, *values]])
    loading.land_batch(warehouse_db, source="pc", night=date(2026, 10, 31), read_pages=read)
    expected = tuple(None if v is None else str(v) for v in values)
    assert fetch(warehouse_db, "select evaluation_id, satisfaction, writing_evaluation from raw.pc_evaluations "
                               f"where evaluation_id = '{values[0]}'") == [expected]


def test_the_planner_knows_each_new_batch_by_its_size(warehouse_db):
    """Validation and dbt pick a batch by its id. Planned as one row when it holds thousands, their joins
    turn quadratic (BENCHMARKS.md): each load teaches the statistics its batch, the first one every column."""
    def batch(n_rows, first_id):
        def read(watermark):
            rows = [[i + 1, f"E{first_id + i:07d}", "5", "好"] for i in range(n_rows)]
            yield loading.Page("raw.pc_evaluations", COLUMNS, "page 1", rows)
        return read

    for night, n_rows in ((29, 3000), (30, 400), (31, 4000)):
        result = loading.land_batch(warehouse_db, source="pc", night=date(2026, 10, night),
                                    read_pages=batch(n_rows, night * 10_000))
        plan = fetch(warehouse_db, "explain (format json) select * from raw.pc_evaluations "
                                   f"where _batch_id = {result.batch_id}")[0][0]
        assert n_rows / 2 < plan[0]["Plan"]["Plan Rows"] < n_rows * 2, (night, plan[0]["Plan"]["Plan Rows"])
    assert fetch(warehouse_db, "select count(*) from pg_stats where schemaname = 'raw' "
                               "and tablename = 'pc_evaluations' and attname = 'evaluation_id'") == [(1,)]


def test_a_load_killed_halfway_leaves_nothing_and_the_rerun_completes(warehouse_db):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from datetime import date
        from hcp import loading, warehouse
        from test_loading import COLUMNS, pages
        conn = warehouse.connect()
        loading.land_batch(conn, source="pc", night=date(2026, 10, 31), read_pages=pages(5, pause_after=3))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.time() + 60
        copying = False
        while not copying and time.time() < deadline and child.poll() is None:
            # three pages are in the open transaction once the loader's last statement is a COPY
            copying = fetch(warehouse_db, "select count(*) from pg_stat_activity where application_name = 'haochaping'"
                                          " and query like 'copy%%' and pid <> pg_backend_pid()")[0][0] > 0
            time.sleep(0.1)
        assert copying, "the loader never reached its COPY"
        time.sleep(0.3)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(30)
    time.sleep(0.5)  # the server notices the dropped connection and rolls its transaction back

    assert fetch(warehouse_db, "select count(*) from raw.pc_evaluations") == [(0,)]
    assert fetch(warehouse_db, "select count(*) from audit.watermarks") == [(0,)]

    rerun = loading.land_batch(warehouse_db, source="pc", night=date(2026, 10, 31), read_pages=pages(5))
    assert rerun.rows_landed == 500 and rerun.watermark_before is None
    assert fetch(warehouse_db, "select status, error from audit.batches order by batch_id") == [
        ("failed", "abandoned: the loader died mid-batch"),
        ("succeeded", None),
    ]


def test_a_source_that_fails_mid_read_fails_its_batch_with_the_reason_and_lands_nothing(warehouse_db):
    # pages are read one ahead in a worker thread: its error must still reach the batch, after the pages before it
    def read(watermark):
        yield from pages(2)(watermark)
        raise ConnectionResetError("the portal hung up on page 3")

    with pytest.raises(ConnectionResetError):
        loading.land_batch(warehouse_db, source="pc", night=date(2026, 10, 31), read_pages=read)
    assert fetch(warehouse_db, "select count(*) from raw.pc_evaluations") == [(0,)]
    assert fetch(warehouse_db, "select status, error from audit.batches") == [
        ("failed", "ConnectionResetError: the portal hung up on page 3")]


def test_json_is_read_as_the_json_module_reads_it():
    # msgspec refuses these; json.loads takes them, and the loader must land what it always landed
    assert json_items.parse_json('{"n": 123456789012345678901234567890}') == {"n": 123456789012345678901234567890}
    assert math.isnan(json_items.parse_json('{"x": NaN}')["x"])
    assert json_items.parse_json('{"a": 1, "a": 2}') == {"a": 2}
    with pytest.raises(ValueError, match="Expecting property name"):
        json_items.parse_json("{not json}")
