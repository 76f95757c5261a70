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
from hcp.sources.files_common import complete_folders, root_of

SOURCE = "master"
CONN_ID = "hcp_master"
CONN_TYPE = "fs"
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
    taken = loading.files_taken(conn, SOURCE)
    for folder in complete_folders(root, "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"):
        for file_name, (table, header) in FILES.items():
            path = folder / file_name
            name = f"{folder.name}/{file_name}"
            if not path.exists():
                continue
            print_ = files.fingerprint(path)
            if (name, print_.checksum) in taken:
                continue
            yield from files.csv_file_pages(path, name, print_, table=table, columns=[*header, "snapshot_date"],
                                            header=header, encoding="utf-8", extra=[folder.name])


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    root = root_of(conn_id)
    return loading.land_batch(warehouse_conn, source=SOURCE, night=night,
                              read_pages=lambda _: read_pages(warehouse_conn, root))
