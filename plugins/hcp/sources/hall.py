"""hall — service-hall rating tablets, CSV in GB18030 (docs/contract.md §4.3), connection ``hcp_hall`` (type fs).

``{path}/hall_YYYYMMDD_<HALLCODE>.csv`` with a Chinese header. A file can be
delivered again under the same name with corrected rows: new bytes are taken
again, and the later batch's version of each rating wins downstream.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from hcp import files, loading
from hcp.sources.files_common import root_of

log = logging.getLogger(__name__)

SOURCE = "hall"
CONN_ID = "hcp_hall"
CONN_TYPE = "fs"
TABLE = "raw.hall_evaluations"
ENCODING = "gb18030"
HEADER = ["评价编号", "办件编号", "事项编码", "部门编码", "区划代码", "平台编码", "窗口编号", "工作人员工号",
          "评价结果", "差评原因", "评价时间", "手机号"]
COLUMNS = ["evaluation_no", "case_no", "item_code", "dept_code", "area_code", "platform_code", "window_no",
           "staff_no", "result", "bad_reasons", "eval_time", "phone", "hall_code", "file_date"]
FILE_NAME = re.compile(r"^hall_(\d{8})_([0-9A-Za-z]+)\.csv$")


def read_pages(conn, root: Path) -> Iterator[loading.Page]:
    taken = loading.files_taken(conn, SOURCE)
    for path in sorted(root.glob("hall_*.csv")):
        match = FILE_NAME.match(path.name)
        if not match:
            log.warning("hall: %s does not follow hall_YYYYMMDD_<HALLCODE>.csv; left alone", path.name)
            continue
        print_ = files.fingerprint(path)
        if (path.name, print_.checksum) in taken:
            continue
        file_date, hall_code = match.groups()
        yield from files.csv_file_pages(path, path.name, print_, table=TABLE, columns=COLUMNS, header=HEADER,
                                        encoding=ENCODING, extra=[hall_code, file_date])


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    root = root_of(conn_id)
    return loading.land_batch(warehouse_conn, source=SOURCE, night=night,
                              read_pages=lambda _: read_pages(warehouse_conn, root))
