"""app exports: dt= folders of gzipped JSON Lines, complete only with _SUCCESS."""
import gzip
import json

import pytest

from hcp.files import FileChangedWhileReading
from hcp.sources import app
from hcp_dev.simulator import deliveries as sim
from tests.conftest import NIGHT, query

DAYS = [NIGHT.replace(day=29), NIGHT.replace(day=30)]


@pytest.fixture
def app_root(fs_connection, demo_world):
    root = fs_connection("hcp_app")
    for day in DAYS:
        sim.write_app_day(demo_world, root, day)
    return root


def expected(world, days):
    return sum(len(world.ratings_on("app", d)) for d in days)


def test_first_load_then_resume_then_reexport(warehouse_db, app_root, demo_world):
    first = app.extract(warehouse_db, NIGHT)
    assert first.rows_landed == expected(demo_world, DAYS) > 0 and first.files_taken == 2
    # the raw row keeps the export's fields as sent: canonical level, tags as JSON, compact time
    rating = demo_world.ratings_on("app", DAYS[0])[0]
    row = query(warehouse_db, "select satisfaction_code, tags, eval_time, export_date, _source_page, _line_no "
                              "from raw.app_evaluations where eval_id = %s", rating.evaluation_id)
    assert row == [(str(rating.level), json.dumps([int(c) for c in rating.reason_codes]),
                     rating.rated_at.strftime("%Y%m%dT%H%M%S"), DAYS[0].isoformat(),
                     f"dt={DAYS[0]}/part-0000.jsonl.gz", 1)]

    again = app.extract(warehouse_db, NIGHT)
    assert (again.rows_read, again.files_taken) == (0, 0)  # nothing new: nothing landed twice

    sim.write_app_day(demo_world, app_root, DAYS[1])  # the same export again: same bytes
    assert app.extract(warehouse_db, NIGHT).rows_read == 0
    with gzip.GzipFile(app_root / f"dt={DAYS[1]}" / "part-0000.jsonl.gz", "ab", mtime=0) as out:
        out.write(b'{"eval_id": "APPX", "satisfaction_code": 1}\n')  # re-exported with one more row
    reexport = app.extract(warehouse_db, NIGHT)
    assert reexport.rows_landed == expected(demo_world, DAYS[1:]) + 1


def test_a_folder_without_success_waits(warehouse_db, app_root, demo_world):
    (app_root / f"dt={DAYS[1]}" / "_SUCCESS").unlink()
    assert app.extract(warehouse_db, NIGHT).rows_landed == expected(demo_world, DAYS[:1])
    (app_root / f"dt={DAYS[1]}" / "_SUCCESS").touch()
    assert app.extract(warehouse_db, NIGHT).rows_landed == expected(demo_world, DAYS[1:])


def test_a_truncated_gzip_is_quarantined_whole_and_the_rest_lands(warehouse_db, app_root, demo_world):
    part = app_root / f"dt={DAYS[0]}" / "part-0000.jsonl.gz"
    part.write_bytes(part.read_bytes()[:-40])
    result = app.extract(warehouse_db, NIGHT)
    assert result.rows_landed == expected(demo_world, DAYS[1:])
    assert result.rows_rejected == 1 and result.files_taken == 2
    assert query(warehouse_db, "select source_page, line_no, reason from audit.quarantine") == [
        (f"dt={DAYS[0]}/part-0000.jsonl.gz", None, "truncated_gzip")]


def test_an_empty_file_and_bad_lines(warehouse_db, app_root):
    folder = app_root / f"dt={DAYS[0]}"
    (folder / "part-0001.jsonl.gz").write_bytes(b"")  # an empty part
    with gzip.open(folder / "part-0002.jsonl.gz", "wb") as out:
        out.write(b'{"eval_id": "A1", "satisfaction_code": 1}\nnot json\n[1, 2]\n{"eval_id": "A\\u0000"}\n')
    result = app.extract(warehouse_db, NIGHT)
    rejected = query(warehouse_db, "select line_no, reason, record from audit.quarantine order by line_no")
    assert rejected == [(2, "not_json", "not json"), (3, "not_json", "[1, 2]"),
                        (4, "nul_byte", '{"eval_id": "A\\u0000"}')]
    assert result.rows_read == result.rows_landed + result.rows_rejected


def test_a_folder_reexported_while_being_read_rolls_the_batch_back(warehouse_db, app_root, demo_world, monkeypatch):
    real = app._records
    part = app_root / f"dt={DAYS[0]}" / "part-0000.jsonl.gz"

    def records_then_reexport(stream, keys):
        yield from real(stream, keys)
        # the exporter replaces the part after its rows were read, before the loader re-checks it
        part.write_bytes(gzip.compress(b'{"eval_id": "NEW"}\n', mtime=0))

    monkeypatch.setattr(app, "_records", records_then_reexport)
    with pytest.raises(FileChangedWhileReading):
        app.extract(warehouse_db, NIGHT)
    assert query(warehouse_db, "select count(*) from raw.app_evaluations") == [(0,)]
    assert query(warehouse_db, "select count(*) from audit.files_taken") == [(0,)]
    assert query(warehouse_db, "select status from audit.batches") == [("failed",)]


def test_a_part_too_large_to_hold_is_checked_whole_then_read_from_the_file(warehouse_db, app_root, demo_world,
                                                                          monkeypatch):
    """Parts decompressed past KEEP_DECOMPRESSED are not held: proven whole by one pass, parsed by another."""
    monkeypatch.setattr(app, "KEEP_DECOMPRESSED", 100)
    truncated = app_root / f"dt={DAYS[1]}" / "part-0000.jsonl.gz"
    truncated.write_bytes(truncated.read_bytes()[:-40])
    result = app.extract(warehouse_db, NIGHT)
    assert result.rows_landed == expected(demo_world, DAYS[:1]) and result.rows_rejected == 1
    assert query(warehouse_db, "select reason from audit.quarantine") == [("truncated_gzip",)]
    assert query(warehouse_db, "select max(_line_no) from raw.app_evaluations") == [(expected(demo_world, DAYS[:1]),)]
