"""hall tablets: GB18030 CSV with a Chinese header, re-delivered under the same name with corrections."""
import pytest

from hcp.sources import hall
from hcp_dev.simulator import deliveries as sim
from tests.conftest import NIGHT, query


@pytest.fixture
def hall_root(fs_connection, demo_world):
    root = fs_connection("hcp_hall")
    sim.write_hall_day(demo_world, root, NIGHT)
    return root


def test_gb18030_files_land_with_their_chinese_text(warehouse_db, hall_root, demo_world):
    ratings = demo_world.ratings_on("hall", NIGHT)
    result = hall.extract(warehouse_db, NIGHT)
    assert result.rows_landed == len(ratings) and result.files_taken == len(list(hall_root.iterdir()))
    r = next(x for x in ratings if x.level >= 4) if any(x.level >= 4 for x in ratings) else ratings[0]
    row = query(warehouse_db, "select result, bad_reasons, eval_time, hall_code, file_date, _line_no > 1 "
                              "from raw.hall_evaluations where evaluation_no = %s", r.evaluation_id)
    assert row == [(sim.LEVEL_NAMES[r.level], "|".join(r.reason_codes) or None, r.rated_at.strftime("%Y/%m/%d %H:%M:%S"),
                    r.hall_code, f"{NIGHT:%Y%m%d}", True)]
    assert hall.extract(warehouse_db, NIGHT).rows_read == 0  # taken: not read twice


def test_a_redelivered_file_with_corrected_rows_is_taken_again(warehouse_db, hall_root, demo_world):
    hall.extract(warehouse_db, NIGHT)
    path = sorted(hall_root.glob("hall_*.csv"))[0]
    lines = path.read_bytes().decode("gb18030").splitlines()
    corrected = lines[1].split(",")
    corrected[8] = "不满意" if corrected[8] != "不满意" else "满意"
    path.write_bytes("\r\n".join([lines[0], ",".join(corrected), *lines[2:]]).encode("gb18030") + b"\r\n")
    again = hall.extract(warehouse_db, NIGHT)
    assert again.rows_landed == len(lines) - 1
    versions = query(warehouse_db, "select result from raw.hall_evaluations where evaluation_no = %s "
                                   "order by _batch_id", corrected[0])
    assert [v for (v,) in versions][-1] == corrected[8] and len(versions) == 2


def test_bad_bytes_a_bom_and_a_wrong_header(warehouse_db, hall_root):
    good = ["HALLX1", "C1", "I1", "91350100M000100Y43", "320100", "PT32HALL01", "W01", "S1", "满意", "", "2026/10/31 09:00:00", "13800000000"]
    bad = b"HALLX2,C2,I1,91350100M000100Y43,320100,PT32HALL01,W01,S1,\xff\xfe\xff,,2026/10/31 09:00:00,13800000000"
    body = ("\ufeff" + ",".join(sim.HALL_HEADER) + "\r\n" + ",".join(good) + "\r\n").encode("gb18030") + bad + b"\r\n"
    (hall_root / "hall_20261031_HBAD.csv").write_bytes(body)
    sim.write_hall_file(hall_root / "hall_20261031_HHDR.csv", [good[:11]], header=sim.HALL_HEADER[:11])
    result = hall.extract(warehouse_db, NIGHT)
    rejected = query(warehouse_db, "select source_page, line_no, reason, record like '%%\\xff%%' "
                                   "from audit.quarantine order by source_page")
    assert rejected == [("hall_20261031_HBAD.csv", 3, "bad_encoding", True),
                        ("hall_20261031_HHDR.csv", None, "header_mismatch", False)]
    assert query(warehouse_db, "select count(*) from raw.hall_evaluations where evaluation_no = 'HALLX1'") == [(1,)]
    assert result.rows_read == result.rows_landed + result.rows_rejected


def test_a_bad_line_deep_in_a_large_file_is_the_only_one_that_does_not_land(warehouse_db, hall_root):
    """Plain pages go to COPY as CSV; a page COPY refuses is parsed line by line, so only its bad line is kept
    out, and every line keeps its own number."""
    for path in hall_root.glob("hall_*.csv"):
        path.unlink()
    header = ",".join(hall.HEADER)
    lines = [f"HE{n:06d},C{n},I1,D1,320000,P1,W1,,满意,,2026/10/31 10:00:00,138{n:08d}" for n in range(1, 25001)]
    lines[12_344] = "HE012345,C12345,I1"  # line 12,346 of the file: too few fields, in the second page
    (hall_root / f"hall_{NIGHT:%Y%m%d}_H1.csv").write_bytes("\r\n".join([header, *lines, ""]).encode("gb18030"))
    result = hall.extract(warehouse_db, NIGHT)
    assert (result.rows_landed, result.rows_rejected) == (24_999, 1)
    assert query(warehouse_db, "select line_no, reason from audit.quarantine") == [(12_346, "wrong_field_count")]
    assert query(warehouse_db, "select evaluation_no, staff_no, _line_no from raw.hall_evaluations "
                               "where _line_no in (2, 12345, 12347, 25001) order by _line_no") == [
        ("HE000001", None, 2), ("HE012344", None, 12_345), ("HE012346", None, 12_347), ("HE025000", None, 25_001)]
