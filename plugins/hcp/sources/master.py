"""master — daily master-data snapshots, CSV in UTF-8 (docs/contract.md §5), connection ``hcp_master`` (type fs).

``{path}/YYYY-MM-DD/{agencies,platforms,staff,service_items,cases}.csv``,
complete once ``_SUCCESS`` exists. Each file lands in its own raw table with
the snapshot's date.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from hcp import files, loading
from hcp.sources.contract import RawTable, SourceContract

SOURCE = "master"
CONN_ID = "hcp_master"
FILES = {
    "agencies.csv": ("raw.master_agencies", ["org_code", "org_name", "parent_org_code", "area_code", "admin_level"]),
    "platforms.csv": ("raw.master_platforms", ["platform_code", "platform_name", "platform_type", "org_code"]),
    "staff.csv": ("raw.master_staff", ["staff_no", "staff_name", "org_code", "window_no", "active"]),
    "service_items.csv": ("raw.master_service_items",
                          ["item_code", "item_name", "org_code", "case_type", "promised_days"]),
    "cases.csv": ("raw.master_cases", ["case_no", "item_code", "org_code", "platform_code", "staff_no",
                                       "applicant_type", "submitted_at", "completed_at"]),
}


def read_pages(conn, root: Path) -> Iterator[loading.Page]:
    delivered = ((folder / file_name, f"{folder.name}/{file_name}")
                 for folder in files.complete_folders(root, "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]")
                 for file_name in FILES if (folder / file_name).exists())
    for path, name, print_ in files.not_taken(conn, SOURCE, delivered):
        table, header = FILES[path.name]
        yield from files.csv_file_pages(path, name, print_, table=table, columns=[*header, "snapshot_date"],
                                        header=header, encoding="utf-8", extra=[path.parent.name])


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    return files.extract(warehouse_conn, night, source=SOURCE, conn_id=conn_id, read_pages=read_pages)


def _snapshot(file_name: str, key: str, **expect) -> RawTable:
    table, header = FILES[file_name]
    return RawTable(table, (*header, "snapshot_date"), delivery_columns=("snapshot_date",), expect_not_null=(key,),
                    **expect)


CONTRACT = SourceContract(
    name=SOURCE, name_zh="主数据", conn_id=CONN_ID, delivery="files", extract=extract, is_channel=False,
    releases_held=True,  # a new snapshot may list the case a held SMS reply waits for
    tables=(
        _snapshot("agencies.csv", "org_code", batch_index=False,
                  expect_in_set={"admin_level": ("province", "city", "county", "township")}),
        _snapshot("platforms.csv", "platform_code", batch_index=False,
                  expect_in_set={"platform_type": ("portal", "mobile", "hall_device", "hotline", "sms")}),
        _snapshot("staff.csv", "staff_no", batch_index=False, expect_in_set={"active": ("Y", "N")}),
        _snapshot("service_items.csv", "item_code", batch_index=False,
                  expect_in_set={"case_type": ("即办件", "承诺件")}),
        # held SMS replies look their case up here
        _snapshot("cases.csv", "case_no", index_on=("case_no",), expect_regex={"completed_at": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"}),
    ),
)
