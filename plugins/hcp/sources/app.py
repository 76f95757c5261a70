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

from hcp import files, loading
from hcp.quarantine import check
from hcp.sources.files_common import complete_folders, root_of

log = logging.getLogger(__name__)

SOURCE = "app"
CONN_ID = "hcp_app"
CONN_TYPE = "fs"
TABLE = "raw.app_evaluations"
FIELDS = ["eval_id", "case_no", "item_code", "org_code", "area_code", "platform_code", "staff_no",
          "satisfaction_code", "tags", "text", "eval_time", "eval_seq", "user_type", "user_id_card", "client"]
COLUMNS = [*FIELDS, "export_date"]
NULLABLE = ("staff_no", "text", "tags", "user_id_card", "client")  # may be null, so may be left out
# A part decompressed up to this size is held and parsed from memory: one gzip pass, not two (a tenth of the
# extract). Larger parts are checked whole first, then parsed from the file: memory stays bounded.
KEEP_DECOMPRESSED = 64 << 20


def read_pages(conn, root: Path) -> Iterator[loading.Page]:
    taken = loading.files_taken(conn, SOURCE)
    for folder in complete_folders(root, "dt=*"):
        export_date = folder.name.removeprefix("dt=")
        for part in sorted(folder.glob("part-*.jsonl.gz")):
            name = f"{folder.name}/{part.name}"
            print_ = files.fingerprint(part)
            if (name, print_.checksum) in taken:
                continue
            lines, problem = files.gunzip(part, KEEP_DECOMPRESSED) if print_.size else (b"", None)
            if problem:
                yield files.rejected_file_page(name, dataclasses.replace(print_, problem=problem), TABLE, COLUMNS)
                continue
            yield from _part_pages(part, name, print_, export_date, lines)


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
            item = loading.parse_json(text)
            if not isinstance(item, dict):
                raise ValueError("not an object")
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            reason = "bad_encoding" if isinstance(exc, UnicodeDecodeError) else "not_json"
            yield line_no, None, loading.Rejected(line_no, text, check(reason), str(exc)[:200])
            continue
        keys.update(item)  # the union of keys: a field no line carries is drift
        row = loading.json_values(item, FIELDS)
        # JSON text cannot hold a raw NUL, only the escape: look at the values only when the line has one
        if "\\u0000" in text and any(v is not None and "\x00" in v for v in row):
            yield line_no, None, loading.Rejected(line_no, text, check("nul_byte"))
            continue
        yield line_no, row, None


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    root = root_of(conn_id)
    return loading.land_batch(warehouse_conn, source=SOURCE, night=night,
                              read_pages=lambda _: read_pages(warehouse_conn, root))
