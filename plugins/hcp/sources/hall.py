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
from hcp.sources.contract import LevelScale, RawTable, ReasonCodes, SourceContract, TimeFormat

log = logging.getLogger(__name__)

SOURCE = "hall"
CONN_ID = "hcp_hall"
TABLE = "raw.hall_evaluations"
ENCODING = "gb18030"
HEADER = ["评价编号", "办件编号", "事项编码", "部门编码", "区划代码", "平台编码", "窗口编号", "工作人员工号",
          "评价结果", "差评原因", "评价时间", "手机号"]
COLUMNS = ["evaluation_no", "case_no", "item_code", "dept_code", "area_code", "platform_code", "window_no",
           "staff_no", "result", "bad_reasons", "eval_time", "phone", "hall_code", "file_date"]
FILE_NAME = re.compile(r"^hall_(\d{8})_([0-9A-Za-z]+)\.csv$")


def read_pages(conn, root: Path) -> Iterator[loading.Page]:
    for path, name, print_ in files.not_taken(conn, SOURCE, _delivered(root)):
        file_date, hall_code = FILE_NAME.match(name).groups()
        yield from files.csv_file_pages(path, name, print_, table=TABLE, columns=COLUMNS, header=HEADER,
                                        encoding=ENCODING, extra=[hall_code, file_date])


def _delivered(root: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(root.glob("hall_*.csv")):
        if FILE_NAME.match(path.name):
            yield path, path.name
        else:
            log.warning("hall: %s does not follow hall_YYYYMMDD_<HALLCODE>.csv; left alone", path.name)


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    return files.extract(warehouse_conn, night, source=SOURCE, conn_id=conn_id, read_pages=read_pages)


CONTRACT = SourceContract(
    name=SOURCE, name_zh="政务大厅评价器", conn_id=CONN_ID, staging_model="stg_hall__evaluations", delivery="files", extract=extract,
    tables=(RawTable(
        TABLE, tuple(COLUMNS), delivery_columns=("hall_code", "file_date"), id_column="evaluation_no",
        time=TimeFormat("eval_time", r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}$", "replace(eval_time, '/', '-')"),
        level=LevelScale("result", ("非常满意", "满意", "基本满意", "不满意", "非常不满意"), trimmed=True),
        case_column="case_no", agency_column="dept_code", reason_codes=ReasonCodes("bad_reasons", "|"),
    ),),
)
