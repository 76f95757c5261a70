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
from hcp.sources.contract import RawTable, SourceContract, TimeFormat

SOURCE = "sms"
CONN_ID = "hcp_sms"
TABLE = "raw.sms_replies"
HEADER = ["msg_id", "case_no", "phone", "reply_text", "received_at"]
COLUMNS = [*HEADER, "file_date"]
FILE_NAME = re.compile(r"^sms_(\d{8})\.csv$")


def read_pages(conn, root: Path) -> Iterator[loading.Page]:
    delivered = ((p, p.name) for p in sorted(root.glob("sms_*.csv")) if FILE_NAME.match(p.name))
    for path, name, print_ in files.not_taken(conn, SOURCE, delivered):
        yield from files.csv_file_pages(path, name, print_, table=TABLE, columns=COLUMNS, header=HEADER,
                                        encoding="utf-8", extra=[FILE_NAME.match(name).group(1)])


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    return files.extract(warehouse_conn, night, source=SOURCE, conn_id=conn_id, read_pages=read_pages)


TIME_REGEX = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$"
CASE_WINDOW_DAYS = 7  # a snapshot within this many days either side of the reply must list its case
CONTRACT = SourceContract(
    name=SOURCE, name_zh="短信", conn_id=CONN_ID, staging_model="stg_sms__replies", delivery="files", extract=extract,
    holds_for_case_days=CASE_WINDOW_DAYS, releases_held=True, validated_after=("master",),
    tables=(RawTable(
        TABLE, tuple(COLUMNS), delivery_columns=("file_date",), id_column="msg_id",
        time=TimeFormat("received_at", TIME_REGEX, type="timestamptz"),
        # the level is read from free text downstream: a reply that names none is no rating
        rules=(("sms_opt_out", "util.sms_reply_is_opt_out(reply_text)"),
               ("sms_unparseable", "util.sms_reply_level(reply_text) is null")),
        case_column="case_no", expect_not_null=("received_at",),
    ),),
)
