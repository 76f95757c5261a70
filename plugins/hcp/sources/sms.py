"""sms — SMS survey replies, CSV in UTF-8 (docs/contract.md §4.5), connection ``hcp_sms`` (type fs).

``{path}/sms_YYYYMMDD.csv``. Replies land verbatim; parsing the free text into
a level, and attributing it through its case, happen downstream.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from hcp import files, loading
from hcp.sources.files_common import root_of

SOURCE = "sms"
CONN_ID = "hcp_sms"
CONN_TYPE = "fs"
TABLE = "raw.sms_replies"
HEADER = ["msg_id", "case_no", "phone", "reply_text", "received_at"]
COLUMNS = [*HEADER, "file_date"]
FILE_NAME = re.compile(r"^sms_(\d{8})\.csv$")


def read_pages(conn, root: Path) -> Iterator[loading.Page]:
    taken = loading.files_taken(conn, SOURCE)
    for path in sorted(root.glob("sms_*.csv")):
        match = FILE_NAME.match(path.name)
        if not match:
            continue
        print_ = files.fingerprint(path)
        if (path.name, print_.checksum) in taken:
            continue
        yield from files.csv_file_pages(path, path.name, print_, table=TABLE, columns=COLUMNS, header=HEADER,
                                        encoding="utf-8", extra=[match.group(1)])


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    root = root_of(conn_id)
    return loading.land_batch(warehouse_conn, source=SOURCE, night=night,
                              read_pages=lambda _: read_pages(warehouse_conn, root))
