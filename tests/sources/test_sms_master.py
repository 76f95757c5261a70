"""SMS replies (UTF-8 free text, verbatim) and master-data snapshots (complete only with _SUCCESS)."""
from hcp.sources import master, sms
from hcp_dev.simulator import deliveries as sim
from tests.conftest import NIGHT, query


def test_sms_replies_land_verbatim(warehouse_db, fs_connection, demo_world):
    root = fs_connection("hcp_sms")
    sim.write_sms_day(demo_world, root, NIGHT)
    (root / "sms_20261030.csv").write_text(
        "msg_id,case_no,phone,reply_text,received_at\n"
        'M1,C1,13800000000,"５",2026-10-30T01:00:00Z\n'
        'M2,C2,13800000001,"非常不满意!!, 太慢了 ""真的""",2026-10-30T09:00:00+08:00\n'
        "M3,C3,13800000002,TD,2026-10-30T09:00:00+08:00\n", encoding="utf-8")
    result = sms.extract(warehouse_db, NIGHT)
    expected = len(demo_world.ratings_on("sms", NIGHT)) + sum(1 for n in demo_world.sms_noise
                                                             if n.received_at.date() == NIGHT)
    assert result.rows_landed == expected + 3
    assert query(warehouse_db, "select reply_text, received_at, file_date from raw.sms_replies "
                               "where msg_id in ('M1', 'M2') order by msg_id") == [
        ("５", "2026-10-30T01:00:00Z", "20261030"), ('非常不满意!!, 太慢了 "真的"', "2026-10-30T09:00:00+08:00", "20261030")]


def test_master_snapshots_wait_for_success_and_carry_their_date(warehouse_db, fs_connection, demo_world):
    root = fs_connection("hcp_master")
    sim.write_master_day(demo_world, root, NIGHT.replace(day=30))
    sim.write_master_day(demo_world, root, NIGHT, success=False)
    first = master.extract(warehouse_db, NIGHT)
    assert first.files_taken == 5
    listed = demo_world.cases_listed_on(NIGHT.replace(day=30))
    assert query(warehouse_db, "select count(*), min(snapshot_date) from raw.master_cases") == [
        (len(listed), "2026-10-30")]
    assert query(warehouse_db, "select count(*) from raw.master_agencies") == [(len(demo_world.agencies),)]
    (root / NIGHT.isoformat() / "_SUCCESS").touch()
    second = master.extract(warehouse_db, NIGHT)
    assert second.files_taken == 5
    assert query(warehouse_db, "select count(distinct snapshot_date) from raw.master_staff") == [(2,)]


def test_an_sms_file_delivered_again_is_taken_only_when_its_bytes_change(warehouse_db, fs_connection, demo_world):
    root = fs_connection("hcp_sms")
    path = sim.write_sms_day(demo_world, root, NIGHT)
    first = sms.extract(warehouse_db, NIGHT)
    sim.write_sms_day(demo_world, root, NIGHT)  # the same file again
    assert sms.extract(warehouse_db, NIGHT).rows_read == 0
    path.write_text(path.read_text(encoding="utf-8") + "MX,CX,13800000009,3,2026-10-31T10:00:00+08:00\n",
                    encoding="utf-8")
    again = sms.extract(warehouse_db, NIGHT)
    assert again.rows_landed == first.rows_landed + 1  # the whole corrected file, as a new version of each row
