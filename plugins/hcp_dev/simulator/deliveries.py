"""The file-delivered sources, written as the real systems write them (docs/contract.md §4.2, §4.3, §4.5, §5).

Each writer takes the world and a root folder and writes one day's delivery;
helpers re-deliver, truncate or withhold files so tests can reproduce each fault.
The pipeline reads them with ``hcp.files`` and ``hcp.sources``.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, date, timedelta
from pathlib import Path

from hcp.timeutil import BEIJING
from hcp_dev.simulator.world import LEVEL_NAMES, Case, Rating, World

APP_PART_ROWS = 5000
HALL_HEADER = ["评价编号", "办件编号", "事项编码", "部门编码", "区划代码", "平台编码", "窗口编号", "工作人员工号",
               "评价结果", "差评原因", "评价时间", "手机号"]
SMS_HEADER = ["msg_id", "case_no", "phone", "reply_text", "received_at"]


# ---------- app: {path}/dt=YYYY-MM-DD/part-NNNN.jsonl.gz, complete once _SUCCESS exists

def app_record(r: Rating) -> dict:
    return {
        "eval_id": r.evaluation_id, "case_no": r.case_no, "item_code": r.item_code, "org_code": r.org_code,
        "area_code": r.area_code, "platform_code": r.platform_code, "staff_no": r.staff_no,
        "satisfaction_code": r.level, "tags": [int(c) for c in r.reason_codes], "text": r.comment,
        "eval_time": r.rated_at.strftime("%Y%m%dT%H%M%S"), "eval_seq": r.seq, "user_type": r.user_type,
        "user_id_card": r.user_id_card, "client": r.client,
    }


def write_app_day(world: World, root: Path, day: date, success: bool = True) -> Path:
    folder = root / f"dt={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.jsonl.gz"):  # a re-export replaces the folder's files
        old.unlink()
    (folder / "_SUCCESS").unlink(missing_ok=True)
    ratings = world.ratings_on("app", day)
    for part, start in enumerate(range(0, max(len(ratings), 1), APP_PART_ROWS)):
        lines = "".join(json.dumps(app_record(r), ensure_ascii=False) + "\n" for r in ratings[start:start + APP_PART_ROWS])
        # mtime=0: the same export gives the same bytes, so an unchanged file is not taken twice
        with gzip.GzipFile(folder / f"part-{part:04d}.jsonl.gz", "wb", mtime=0) as out:
            out.write(lines.encode("utf-8"))
    if success:
        (folder / "_SUCCESS").touch()
    return folder


# ---------- hall: {path}/hall_YYYYMMDD_<HALLCODE>.csv in GB18030 with a Chinese header

def hall_row(r: Rating) -> list[str]:
    return [r.evaluation_id, r.case_no, r.item_code, r.org_code, r.area_code, r.platform_code, r.window_no or "",
            r.staff_no or "", LEVEL_NAMES[r.level], "|".join(r.reason_codes), r.rated_at.strftime("%Y/%m/%d %H:%M:%S"),
            r.user_phone]


def write_hall_file(path: Path, rows: list[list[str]], header: list[str] = HALL_HEADER) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # the tablets' exporter writes CRLF
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("gb18030"))
    return path


def write_hall_day(world: World, root: Path, day: date) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    by_hall: dict[str, list[Rating]] = {}
    for r in world.ratings_on("hall", day):
        by_hall.setdefault(r.hall_code, []).append(r)
    return [write_hall_file(root / f"hall_{day:%Y%m%d}_{hall}.csv", [hall_row(r) for r in rows])
            for hall, rows in sorted(by_hall.items())]


# ---------- sms: {path}/sms_YYYYMMDD.csv, UTF-8, received_at ISO-8601 with an offset, often Z

def write_sms_day(world: World, root: Path, day: date) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    replies = [(r.evaluation_id, r.case_no, r.user_phone, r.reply_text, r.rated_at)
               for r in world.ratings_on("sms", day)]
    replies += [(n.msg_id, n.case_no, n.phone, n.reply_text, n.received_at)
                for n in world.sms_noise if n.received_at.date() == day]
    replies.sort(key=lambda x: (x[4], x[0]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SMS_HEADER)
    for i, (msg_id, case_no, phone, text, received) in enumerate(replies):
        aware = received.replace(tzinfo=BEIJING)
        stamp = aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if i % 3 else aware.isoformat()
        writer.writerow([msg_id, case_no, phone, text, stamp])
    path = root / f"sms_{day:%Y%m%d}.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


# ---------- master data: {path}/YYYY-MM-DD/{agencies,platforms,staff,service_items,cases}.csv + _SUCCESS

def case_row(c: Case) -> list:
    """A case as cases.csv lists it; no completed_at leaves the field empty."""
    return [c.case_no, c.item_code, c.org_code, c.platform_code, c.staff_no or "", c.applicant_type,
            f"{c.submitted_at:%Y-%m-%d %H:%M:%S}", f"{c.completed_at:%Y-%m-%d %H:%M:%S}" if c.completed_at else ""]


def write_master_day(world: World, root: Path, day: date, success: bool = True) -> Path:
    folder = root / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "agencies.csv": (["org_code", "org_name", "parent_org_code", "area_code", "admin_level"],
                         [[a.org_code, a.org_name, a.parent_org_code or "", a.area_code, a.admin_level]
                          for a in world.agencies]),
        "platforms.csv": (["platform_code", "platform_name", "platform_type", "org_code"],
                          [[p.platform_code, p.platform_name, p.platform_type, p.org_code] for p in world.platforms]),
        "staff.csv": (["staff_no", "staff_name", "org_code", "window_no", "active"],
                      [[s.staff_no, s.staff_name, s.org_code, s.window_no, "Y" if s.active else "N"]
                       for s in world.staff]),
        "service_items.csv": (["item_code", "item_name", "org_code", "case_type", "promised_days"],
                              [[i.item_code, i.item_name, i.org_code, i.case_type, i.promised_days]
                               for i in world.items]),
        "cases.csv": (["case_no", "item_code", "org_code", "platform_code", "staff_no", "applicant_type",
                       "submitted_at", "completed_at"],
                      [case_row(c) for c in world.cases_listed_on(day)]),
    }
    for name, (header, rows) in tables.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        (folder / name).write_text(buffer.getvalue(), encoding="utf-8")
    if success:
        (folder / "_SUCCESS").touch()
    return folder


def write_all(world: World, root: Path, through: date | None = None) -> dict[str, Path]:
    """Every file source's deliveries for each day of the world (up to ``through``); returns each source's root."""
    roots = {"app": root / "app", "hall": root / "hall", "sms": root / "sms", "master": root / "master"}
    last = through or world.end
    day = world.start
    while day <= last:
        write_app_day(world, roots["app"], day)
        write_hall_day(world, roots["hall"], day)
        write_sms_day(world, roots["sms"], day)
        write_master_day(world, roots["master"], day)
        day += timedelta(days=1)
    return roots
