"""app — mobile app and mini-program exports, JSON Lines (docs/contract.md §4.2), connection ``hcp_app`` (type fs).

``{path}/dt=YYYY-MM-DD/part-NNNN.jsonl.gz``; a folder counts once it holds
``_SUCCESS``, and may be exported again (new bytes: taken again, the latest
version wins downstream).
"""
from __future__ import annotations

import dataclasses
import gzip
import io
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from hcp import files, json_items, loading
from hcp.quarantine import check
from hcp.sources.contract import LevelScale, RawTable, ReasonCodes, SourceContract, TimeFormat

log = logging.getLogger(__name__)

SOURCE = "app"
CONN_ID = "hcp_app"
TABLE = "raw.app_evaluations"
FIELDS = ["eval_id", "case_no", "item_code", "org_code", "area_code", "platform_code", "staff_no",
          "satisfaction_code", "tags", "text", "eval_time", "eval_seq", "user_type", "user_id_card", "client"]
COLUMNS = [*FIELDS, "export_date"]
NULLABLE = ("staff_no", "text", "tags", "user_id_card", "client")  # may be null, so may be left out
# A part decompressed up to this size is held and parsed from memory: one gzip pass, not two (a tenth of the
# extract). Larger parts are checked whole first, then parsed from the file: memory stays bounded.
KEEP_DECOMPRESSED = 64 << 20


def read_pages(conn, root: Path) -> Iterator[loading.Page]:
    delivered = ((part, f"{folder.name}/{part.name}") for folder in files.complete_folders(root, "dt=*")
                 for part in sorted(folder.glob("part-*.jsonl.gz")))
    for part, name, print_ in files.not_taken(conn, SOURCE, delivered):
        lines, problem = files.gunzip(part, KEEP_DECOMPRESSED) if print_.size else (b"", None)
        if problem:
            yield files.rejected_file_page(name, dataclasses.replace(print_, problem=problem), TABLE, COLUMNS)
            continue
        yield from _part_pages(part, name, print_, part.parent.name.removeprefix("dt="), lines)


def _part_pages(path: Path, name: str, print_: files.Fingerprint, export_date: str,
                lines: bytes | None) -> Iterator[loading.Page]:
    """The part's pages, parsed from ``lines`` (its JSON Lines, decompressed) or, when None, from the file."""
    keys: set[str] = set()
    with io.BytesIO(lines) if lines is not None else gzip.open(path, "rb") as stream:
        for rows, rejected in files.paged(_records(stream, keys), lambda line, row: [line, *row, export_date]):
            yield loading.Page(table=TABLE, columns=COLUMNS, label=name, rows=rows, rejected=rejected)
    drift = frozenset({f"unexpected {k}" for k in keys - set(FIELDS)}
                      | {f"missing {k}" for k in set(FIELDS) - keys - set(NULLABLE) if keys})
    files.ensure_unchanged(path, print_)
    yield dataclasses.replace(files.taken_page(name, print_, TABLE, COLUMNS), drift=drift)


def _records(stream, keys: set[str]) -> Iterator[tuple[int, list | None, loading.Rejected | None]]:
    for line_no, raw in enumerate(stream, start=1):
        try:
            text, undecodable = raw.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            text, undecodable = raw.decode("utf-8", "backslashreplace"), exc
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            if undecodable:
                raise undecodable
            item = json_items.parse_json(text)
            if not isinstance(item, dict):
                raise ValueError("not an object")
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            reason = "bad_encoding" if isinstance(exc, UnicodeDecodeError) else "not_json"
            yield line_no, None, loading.Rejected(line_no, text, check(reason), str(exc)[:200])
            continue
        keys.update(item)  # the union of keys: a field no line carries is drift
        row = json_items.json_values(item, FIELDS)
        # JSON text cannot hold a raw NUL, only the escape: look at the values only when the line has one
        if "\\u0000" in text and any(v is not None and "\x00" in v for v in row):
            yield line_no, None, loading.Rejected(line_no, text, check("nul_byte"))
            continue
        yield line_no, row, None


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    return files.extract(warehouse_conn, night, source=SOURCE, conn_id=conn_id, read_pages=read_pages)


CONTRACT = SourceContract(
    name=SOURCE, name_zh="移动端", conn_id=CONN_ID, staging_model="stg_app__evaluations", delivery="files", extract=extract,
    tables=(RawTable(
        TABLE, tuple(COLUMNS), delivery_columns=("export_date",), id_column="eval_id",
        # 20261031T142233: its parts joined as 2026-10-31 14:22:33, by string functions only
        time=TimeFormat("eval_time", r"^\d{8}T\d{6}$",
                        "substr(eval_time, 1, 4) || '-' || substr(eval_time, 5, 2) || '-' || substr(eval_time, 7, 2)"
                        " || ' ' || substr(eval_time, 10, 2) || ':' || substr(eval_time, 12, 2) || ':' "
                        "|| substr(eval_time, 14, 2)"),
        level=LevelScale("satisfaction_code", ("1", "2", "3", "4", "5")),
        case_column="case_no", agency_column="org_code", sequence_column="eval_seq",
        reason_codes=ReasonCodes("tags", None),
    ),),
)
