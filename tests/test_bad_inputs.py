"""The catalogue of bad inputs: each case asserts the row's fate, its reason, and that the batch still reconciles.

Every case lands a batch of good rows from the demo world plus the bad input
through the real loader (real files in their real encodings, a real HTTP
server), then judges it with the row rules as the nightly validate task does.
"""
from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest

from hcp import validation
from hcp.sources import SOURCES, master
from hcp_dev.simulator import deliveries as sim
from hcp_dev.simulator.http_server import ApiServer, PagedApi
from hcp_dev.simulator.pc_api import to_api_item
from hcp_dev.simulator.world import LEVEL_NAMES
from tests.conftest import NIGHT
from tests.conftest import query as fetch

GOOD = 40  # good rows beside each bad one: one bad row stays under the batch's 5% defect limit
VALID_ORG = "91350100M000100Y43"


def judge(conn, source, night=NIGHT):
    result = SOURCES[source].extract(conn, night)
    try:
        validation.judge_batch(conn, source, result.batch_id, night)
    except validation.BatchValidationFailed:
        pass  # a batch rule fired; the fates are what the cases check
    return result


def fates(conn, result):
    """(reason, stage) of each quarantined row, and whether the batch reconciles."""
    quarantined = fetch(conn, "select reason, stage from audit.quarantine where batch_id = %s order by line_no",
                        result.batch_id)
    (balanced,) = fetch(conn, "select balanced from audit.reconciliation where batch_id = %s", result.batch_id)[0]
    return quarantined, balanced


# ---------- pc: a real HTTP server serving good items plus the bad one

@pytest.fixture
def serve_pc(demo_world, monkeypatch):
    servers = []

    def serve(*bad_items):
        items = [to_api_item(r) for r in demo_world.ratings if r.channel == "pc"][:GOOD] + list(bad_items)
        api = PagedApi("/api/evaluations", items, since_key=lambda i: (str(i.get("updateTime")), str(i.get("evaluationId"))),
                       parse_since=lambda s: (s, ""), token="t")
        server = ApiServer(api).__enter__()
        servers.append(server)
        monkeypatch.setenv("AIRFLOW_CONN_HCP_PC", json.dumps({"conn_type": "http", "host": server.base_url,
                                                              "password": "t"}))
        return items
    yield serve
    for server in servers:
        server.__exit__(None, None, None)


def pc_item(demo_world, **changes):
    item = to_api_item(next(r for r in demo_world.ratings if r.channel == "pc"))
    item.update({"evaluationId": "BAD-" + item["evaluationId"], **changes})
    return item


@pytest.mark.parametrize("changes, reason", [
    ({"satisfaction": 0}, "level_out_of_scale"),
    ({"satisfaction": 6}, "level_out_of_scale"),
    ({"assessTime": "2026/10/31 09:00:00"}, "bad_time_format"),
    ({"assessTime": "2026-02-30 09:00:00"}, "bad_time_format"),
    ({"assessTime": "2099-01-01 09:00:00"}, "time_in_future"),
    ({"assessTime": "2019-11-30 23:59:59"}, "time_before_launch"),
    ({"projectNo": ""}, "missing_case"),
    ({"deptCode": VALID_ORG[:-1] + "4"}, "invalid_agency_code"),
    ({"evaluationId": None}, "missing_id"),
], ids=["pc-satisfaction-0", "pc-satisfaction-6", "pc-time-format", "pc-no-such-date", "pc-2099",
        "pc-before-launch", "pc-no-case", "pc-check-character", "pc-no-id"])
def test_pc_row_rules(warehouse_db, serve_pc, demo_world, changes, reason):
    serve_pc(pc_item(demo_world, **changes))
    result = judge(warehouse_db, "pc")
    assert fates(warehouse_db, result) == ([(reason, "validation")], True)


def test_a_time_up_to_the_end_of_the_next_day_is_accepted(warehouse_db, serve_pc, demo_world):
    serve_pc(pc_item(demo_world, assessTime="2026-11-01 23:59:00"))
    assert fates(warehouse_db, judge(warehouse_db, "pc")) == ([], True)


@pytest.mark.parametrize("text", [
    "好" * 10_000,
    "办事很快👍🏻🎉",
    "'); drop table raw.pc_evaluations; --",
    "<script>alert('x')</script><b>差</b>",
], ids=["pc-10000-chars", "pc-emoji", "pc-sql", "pc-html"])
def test_free_text_is_stored_verbatim_never_executed(warehouse_db, serve_pc, demo_world, text):
    item = pc_item(demo_world, writingEvaluation=text)
    serve_pc(item)
    result = judge(warehouse_db, "pc")
    assert fates(warehouse_db, result) == ([], True)
    assert fetch(warehouse_db, "select writing_evaluation from raw.pc_evaluations where evaluation_id = %s",
                 item["evaluationId"]) == [(text,)]


def test_the_same_id_twice_with_conflicting_content(warehouse_db, serve_pc, demo_world):
    first = pc_item(demo_world, satisfaction=5)
    second = dict(first, satisfaction=1)  # same id, same updateTime, another level
    # neither a page sent twice nor a later version of a rating conflicts
    resent = pc_item(demo_world, evaluationId="RESENT", satisfaction=5)
    updated = dict(resent, satisfaction=1, updateTime="2026-11-01 00:00:00")
    serve_pc(first, second, resent, dict(resent), updated)
    result = judge(warehouse_db, "pc")
    assert fates(warehouse_db, result) == ([("conflicting_duplicate", "validation")] * 2, True)
    assert fetch(warehouse_db, "select count(*) from audit.quarantine where batch_id = %s and record like %s",
                 result.batch_id, '%"BAD-%') == [(2,)]


# ---------- hall: GB18030 files on disk

@pytest.fixture
def hall_dir(fs_connection):
    return fs_connection("hcp_hall")


def good_hall_rows(world):
    rows = [sim.hall_row(r) for r in world.ratings if r.channel == "hall"][:GOOD]
    return [[f"G{i}", *row[1:]] for i, row in enumerate(rows)]


def bad_hall_row(world, **changes):
    row = dict(zip(sim.HALL_HEADER, good_hall_rows(world)[0], strict=True))
    row["评价编号"] = "HBAD"
    row.update(changes)
    return list(row.values())


@pytest.mark.parametrize("changes, reason", [
    ({"评价结果": "满 意"}, "level_out_of_scale"),
    ({"评价结果": "非常满"}, "level_out_of_scale"),
    ({"评价时间": "2026-10-31 09:00:00"}, "bad_time_format"),
    ({"部门编码": "1132010067865456"}, "invalid_agency_code"),
    ({"办件编号": ""}, "missing_case"),
], ids=["hall-level-typo-space", "hall-level-typo-short", "hall-dashes-not-slashes", "hall-short-code",
        "hall-no-case"])
def test_hall_row_rules(warehouse_db, hall_dir, demo_world, changes, reason):
    rows = good_hall_rows(demo_world) + [bad_hall_row(demo_world, **changes)]
    sim.write_hall_file(hall_dir / "hall_20261031_HX.csv", rows)
    assert fates(warehouse_db, judge(warehouse_db, "hall")) == ([(reason, "validation")], True)


def hall_bytes(rows, header=sim.HALL_HEADER, newline="\r\n"):
    return newline.join([",".join(header), *(",".join(r) for r in rows)]).encode("gb18030") + newline.encode()


@pytest.mark.parametrize("make, expected", [
    (lambda rows, bad: hall_bytes(rows) + ",".join(bad).encode("gb18030") + b"\xff\xfe\r\n", [("bad_encoding", "load")]),
    (lambda rows, bad: hall_bytes(rows) + ",".join(bad).replace("HBAD", "H\x00BAD").encode("gb18030") + b"\r\n",
     [("nul_byte", "load")]),
    # both on one line: rejected for its encoding, the NUL kept visible in quarantine (COPY refuses a real one)
    (lambda rows, bad: hall_bytes(rows) + b"\x00" + ",".join(bad).encode("gb18030") + b"\xff\r\n",
     [("bad_encoding", "load")]),
    (lambda rows, bad: hall_bytes(rows) + ",".join(bad[:-1]).encode("gb18030") + b"\r\n",
     [("wrong_field_count", "load")]),
    (lambda rows, bad: hall_bytes(rows, header=sim.HALL_HEADER[:-1]), [("header_mismatch", "load")]),
    (lambda rows, bad: hall_bytes(rows, header=[*sim.HALL_HEADER, "备注"]), [("header_mismatch", "load")]),
    (lambda rows, bad: b"\xef\xbb\xbf" + hall_bytes(rows), []),
    (lambda rows, bad: hall_bytes(rows, newline="\n"), []),
    (lambda rows, bad: b"", []),
], ids=["hall-not-gb18030", "hall-nul-byte", "hall-nul-and-not-gb18030", "hall-missing-field", "hall-missing-header-column",
        "hall-extra-header-column", "hall-utf8-bom", "hall-lf-not-crlf", "hall-empty-file"])
def test_hall_file_level_faults(warehouse_db, hall_dir, demo_world, make, expected):
    (hall_dir / "hall_20261031_HX.csv").write_bytes(make(good_hall_rows(demo_world), bad_hall_row(demo_world)))
    result = judge(warehouse_db, "hall")
    assert fates(warehouse_db, result) == (expected, True)
    assert result.rows_read == result.rows_landed + result.rows_rejected


def test_hall_text_survives_the_round_trip(warehouse_db, hall_dir, demo_world):
    rows = good_hall_rows(demo_world)
    (hall_dir / "hall_20261031_HX.csv").write_bytes(b"\xef\xbb\xbf" + hall_bytes(rows))
    judge(warehouse_db, "hall")
    assert fetch(warehouse_db, "select distinct result from raw.hall_evaluations order by 1") == sorted(
        {(r[8],) for r in rows})
    assert all(level in LEVEL_NAMES.values() for (level,) in fetch(
        warehouse_db, "select distinct result from raw.hall_evaluations"))


# ---------- app: gzipped JSON Lines

@pytest.fixture
def app_dir(fs_connection):
    return fs_connection("hcp_app")


def write_app(folder, lines: list[bytes], truncate=False):
    folder.mkdir(parents=True)
    data = gzip.compress(b"".join(line + b"\n" for line in lines), mtime=0)
    (folder / "part-0000.jsonl.gz").write_bytes(data[:-30] if truncate else data)
    (folder / "_SUCCESS").touch()


def good_app_lines(world):
    records = [sim.app_record(r) for r in world.ratings if r.channel == "app"][:GOOD]
    return [json.dumps(r, ensure_ascii=False).encode() for r in records]


@pytest.mark.parametrize("bad, expected", [
    (b"{not json", [("not_json", "load")]),
    (b'{"eval_id": "X", "satisfaction_code": 7, "eval_time": "20261031T090000", "case_no": "C", '
     b'"org_code": "91350100M000100Y43"}', [("level_out_of_scale", "validation")]),
    (b'{"eval_id": "X", "satisfaction_code": 1, "eval_time": "2026-10-31 09:00:00", "case_no": "C", '
     b'"org_code": "91350100M000100Y43"}', [("bad_time_format", "validation")]),
], ids=["app-not-json", "app-level-7", "app-time-format"])
def test_app_lines(warehouse_db, app_dir, demo_world, bad, expected):
    write_app(app_dir / "dt=2026-10-31", good_app_lines(demo_world) + [bad])
    assert fates(warehouse_db, judge(warehouse_db, "app")) == (expected, True)


def test_app_truncated_gzip(warehouse_db, app_dir, demo_world):
    write_app(app_dir / "dt=2026-10-31", good_app_lines(demo_world), truncate=True)
    write_app(app_dir / "dt=2026-10-30", good_app_lines(demo_world))
    result = judge(warehouse_db, "app")
    assert fates(warehouse_db, result) == ([("truncated_gzip", "load")], True)
    assert result.rows_landed == GOOD


# ---------- sms: UTF-8 CSV, free text, cases from the master data

@pytest.fixture
def sms_dirs(fs_connection):
    return fs_connection("hcp_sms"), fs_connection("hcp_master")


def write_sms(root, replies, day=NIGHT):
    lines = ["msg_id,case_no,phone,reply_text,received_at"]
    lines += [f"M{i},{case},13800000000,{json.dumps(text, ensure_ascii=False)},{day}T09:00:00+08:00"
              for i, (case, text) in enumerate(replies)]
    (root / f"sms_{day:%Y%m%d}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def list_cases(root, day, cases):
    folder = root / day.isoformat()
    folder.mkdir()
    for name, (_, header) in master.FILES.items():
        rows = [[c, "I", VALID_ORG, "P", "", "1", f"{day} 08:00:00", f"{day} 09:00:00"] for c in cases] \
            if name == "cases.csv" else []
        (folder / name).write_text("\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n")
    (folder / "_SUCCESS").touch()


@pytest.mark.parametrize("text, expected", [
    ("５", []),
    ("非常不满意!!", []),
    (" 3 ", []),
    ("TD", [("sms_opt_out", "validation")]),
    ("退订", [("sms_opt_out", "validation")]),
    ("谢谢", [("sms_unparseable", "validation")]),
    ("满意 不满意", [("sms_unparseable", "validation")]),
], ids=["sms-fullwidth-5", "sms-words-and-bangs", "sms-padded", "sms-TD", "sms-退订", "sms-thanks",
        "sms-two-levels"])
def test_sms_replies(warehouse_db, sms_dirs, text, expected):
    sms_root, master_root = sms_dirs
    cases = [f"CASE{i}" for i in range(GOOD)]
    list_cases(master_root, NIGHT, [*cases, "CASEX"])
    judge(warehouse_db, "master")
    write_sms(sms_root, [(c, "1") for c in cases] + [("CASEX", text)])
    assert fates(warehouse_db, judge(warehouse_db, "sms")) == (expected, True)


def test_sms_case_listed_late_is_held_then_passes(warehouse_db, sms_dirs):
    sms_root, master_root = sms_dirs
    write_sms(sms_root, [("LATE", "2")])
    result = judge(warehouse_db, "sms")
    assert fetch(warehouse_db, "select released_as from audit.held") == [(None,)]
    list_cases(master_root, NIGHT + timedelta(days=3), ["LATE"])
    judge(warehouse_db, "master", night=NIGHT + timedelta(days=3))
    assert fetch(warehouse_db, "select released_as from audit.held") == [("passed",)]
    assert fates(warehouse_db, result) == ([], True)


def test_a_reply_sent_again_in_the_next_days_file_is_one_rating_not_a_conflict(warehouse_db, sms_dirs):
    """Both daily files land in one batch (a first night, or a night after a pause): the copies differ only in
    the file they came in, which is not what the source sent."""
    sms_root, master_root = sms_dirs
    list_cases(master_root, NIGHT, ["CASE1", "CASE2"])
    judge(warehouse_db, "master")
    write_sms(sms_root, [("CASE1", "1"), ("CASE2", "5")], day=NIGHT - timedelta(days=1))
    header, first, _ = (sms_root / f"sms_{NIGHT - timedelta(days=1):%Y%m%d}.csv").read_text().splitlines()
    (sms_root / f"sms_{NIGHT:%Y%m%d}.csv").write_text(f"{header}\n{first}\n")  # M0 again, as it was
    result = judge(warehouse_db, "sms")
    assert fates(warehouse_db, result) == ([], True)
    assert fetch(warehouse_db, "select msg_id, count(*) from raw.sms_replies group by 1 order by 1") == [
        ("M0", 2), ("M1", 1)]


def test_sms_case_still_unknown_after_eight_days_is_quarantined(warehouse_db, sms_dirs):
    sms_root, master_root = sms_dirs
    write_sms(sms_root, [("NEVER", "2")])
    result = judge(warehouse_db, "sms")
    list_cases(master_root, NIGHT + timedelta(days=8), ["SOMETHING-ELSE"])
    judge(warehouse_db, "master", night=NIGHT + timedelta(days=8))
    assert fetch(warehouse_db, "select released_as from audit.held") == [("quarantined",)]
    assert fates(warehouse_db, result) == ([("unknown_case", "validation")], True)


# ---------- rectification events: their ratings must exist

def test_an_event_for_an_evaluation_that_does_not_exist(warehouse_db, serve_pc, demo_world, monkeypatch):
    items = serve_pc()
    judge(warehouse_db, "pc")
    events = [{"eventId": f"E{i}", "orderNo": f"O{i}", "channel": "pc", "evaluationId": item["evaluationId"],
               "eventType": "opened", "eventTime": "2026-10-31T10:00:00+08:00", "orgCode": VALID_ORG}
              for i, item in enumerate(items)]
    events.append({**events[0], "eventId": "EX", "evaluationId": "NO-SUCH-RATING"})
    events.append({**events[1], "eventId": "EY", "eventType": "escalated"})
    api = PagedApi("/api/rectification/events", events, since_key=lambda e: e["eventTime"],
                   parse_since=lambda s: s, token="t")
    with ApiServer(api) as server:
        monkeypatch.setenv("AIRFLOW_CONN_HCP_RECTIFICATION",
                           json.dumps({"conn_type": "http", "host": server.base_url, "password": "t"}))
        result = judge(warehouse_db, "rectification")
    assert sorted(fates(warehouse_db, result)[0]) == [("unknown_evaluation", "validation"),
                                                      ("unknown_event_type", "validation")]
    assert fates(warehouse_db, result)[1] is True


# ---------- column drift in JSON sources: named, and the batch's policy applied

def test_a_field_renamed_in_the_api_fails_the_batch_naming_it(warehouse_db, demo_world, monkeypatch):
    items = [to_api_item(r) for r in demo_world.ratings if r.channel == "pc"][:GOOD]
    renamed = [{("satisfactionLevel" if k == "satisfaction" else k): v for k, v in i.items()} for i in items]
    api = PagedApi("/api/evaluations", renamed, since_key=lambda i: i["updateTime"], parse_since=lambda s: s, token="t")
    with ApiServer(api) as server:
        monkeypatch.setenv("AIRFLOW_CONN_HCP_PC", json.dumps({"conn_type": "http", "host": server.base_url,
                                                              "password": "t"}))
        result = SOURCES["pc"].extract(warehouse_db, NIGHT)
    with pytest.raises(validation.BatchValidationFailed, match="missing: satisfaction"):
        validation.judge_batch(warehouse_db, "pc", result.batch_id, NIGHT)
    alerts = fetch(warehouse_db, "select rule, policy, message from audit.batch_alerts order by policy")
    assert ("column_drift", "fail", "fields the contract names are missing: satisfaction") in alerts
    assert ("column_drift", "warn", "fields the contract does not name (not landed): satisfactionLevel") in alerts
    assert fetch(warehouse_db, "select count(*) from audit.accepted_batches") == [(0,)]


def test_unknown_reason_codes_are_kept_and_flagged(warehouse_db, serve_pc, demo_world):
    item = pc_item(demo_world, satisfaction=1, evalDetail="502,777")
    serve_pc(item)
    result = judge(warehouse_db, "pc")
    assert fates(warehouse_db, result) == ([], True)  # the row is scored
    assert fetch(warehouse_db, "select eval_detail from raw.pc_evaluations where evaluation_id = %s",
                 item["evaluationId"]) == [("502,777",)]
    assert fetch(warehouse_db, "select rule, policy, message from audit.batch_alerts") == [
        ("unknown_reason_codes", "warn", "reason codes not in the list, kept: 777 (1 rows)")]


def test_app_tags_unknown_or_malformed_are_kept(warehouse_db, app_dir, demo_world):
    odd = [b'{"eval_id": "T1", "satisfaction_code": 4, "eval_time": "20261031T090000", "case_no": "C", '
           b'"org_code": "91350100M000100Y43", "eval_seq": 1, "tags": [501, 888]}',
           b'{"eval_id": "T2", "satisfaction_code": 4, "eval_time": "20261031T090000", "case_no": "C", '
           b'"org_code": "91350100M000100Y43", "eval_seq": 1, "tags": "[501,"}']
    write_app(app_dir / "dt=2026-10-31", good_app_lines(demo_world) + odd)
    result = judge(warehouse_db, "app")
    assert fates(warehouse_db, result) == ([], True)
    # tags that are no array of codes are kept whole, as one code nobody knows: reported, not dropped
    assert fetch(warehouse_db, "select message from audit.batch_alerts where rule = 'unknown_reason_codes'") == [
        ("reason codes not in the list, kept: 888 (1 rows), [501, (1 rows)",)]


# ---------- batch rules, reconciliation, and where a bad batch shows

def test_a_batch_mostly_bad_is_kept_from_the_marts_and_shows_in_the_summary_and_data_docs(
        warehouse_db, serve_pc, demo_world):
    from hcp import summary

    bad = [pc_item(demo_world, evaluationId=f"BAD{i}", satisfaction=9) for i in range(5)]
    serve_pc(*bad)
    result = SOURCES["pc"].extract(warehouse_db, NIGHT)
    with pytest.raises(validation.BatchValidationFailed, match="satisfaction"):
        validation.validate_batch(warehouse_db, "pc", result.batch_id)  # GX: 5 of 45 out of scale, over 5%
    with pytest.raises(validation.BatchValidationFailed, match="5 of 45 rows quarantined as defects"):
        validation.judge_batch(warehouse_db, "pc", result.batch_id, NIGHT)
    assert fetch(warehouse_db, "select count(*) from audit.accepted_batches") == [(0,)]
    text = summary.render(warehouse_db, NIGHT, {})
    assert ["pc", "政务服务网", "level_out_of_scale", "5"] in [line.split() for line in text.splitlines()]
    assert "quarantine_share  fail  5 of 45 rows quarantined as defects" in text
    docs = validation.DATA_DOCS_INDEX.parent / "validations" / "raw_pc_evaluations"
    assert validation.DATA_DOCS_INDEX.exists() and docs.exists()


def test_a_night_far_below_the_nights_before_warns(warehouse_db, serve_pc, demo_world):
    from hcp import loading

    def land(night, rows):
        def read(_):
            yield loading.Page("raw.pc_evaluations", ["evaluation_id"], "p", [[i + 1, f"E{night}{i}"] for i in range(rows)])
        return loading.land_batch(warehouse_db, source="pc", night=night, read_pages=read)

    for back in range(1, 8):
        land(NIGHT - timedelta(days=back), 100)
    quiet = land(NIGHT, 5)
    with warehouse_db.cursor() as cur:
        validation._batch_rules(cur, "pc", quiet.batch_id, NIGHT, {"rows_read": 5})
    warehouse_db.commit()
    assert fetch(warehouse_db, "select rule, policy, message from audit.batch_alerts") == [
        ("volume_drop", "warn", "5 rows tonight against a median of 100 over the nights before")]


def test_a_row_lost_between_landing_and_validation_fails_the_reconciliation(warehouse_db, serve_pc):
    serve_pc()
    result = SOURCES["pc"].extract(warehouse_db, NIGHT)
    with warehouse_db.cursor() as cur:
        cur.execute("delete from raw.pc_evaluations where _line_no = 1 and _batch_id = %s", (result.batch_id,))
    warehouse_db.commit()
    with pytest.raises(validation.ReconciliationFailed,
                       match=f"read {GOOD} = landed at load {GOOD} \\+ rejected at load 0; "
                             f"rows in raw now {GOOD - 1} = passed {GOOD - 1} \\+ quarantined 0"):
        validation.judge_batch(warehouse_db, "pc", result.batch_id, NIGHT)
