"""pc — the 政务服务网 portal's HTTP JSON API (docs/contract.md §4.1), connection ``hcp_pc``.

Pages are read from the watermark (``since`` is inclusive, so the boundary row
is read again; staging keeps the latest version) and landed as they arrive.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from hcp import http_api, json_items, loading
from hcp.http_api import PagedClient
from hcp.sources.contract import LevelScale, RawTable, ReasonCodes, SourceContract, TimeFormat
from hcp.timeutil import beijing_iso, watermark_candidate

SOURCE = "pc"
CONN_ID = "hcp_pc"
TABLE = "raw.pc_evaluations"
PATH = "/api/evaluations"
PAGE_LIMIT = 500

# raw column <- API field, in the raw table's order
FIELDS = {
    "evaluation_id": "evaluationId",
    "project_no": "projectNo",
    "task_code": "taskCode",
    "dept_code": "deptCode",
    "area_code": "areaCode",
    "platform_code": "platformCode",
    "staff_no": "staffNo",
    "pf": "pf",
    "satisfaction": "satisfaction",
    "eval_detail": "evalDetail",
    "writing_evaluation": "writingEvaluation",
    "assess_time": "assessTime",
    "update_time": "updateTime",
    "assess_number": "assessNumber",
    "user_prop": "userProp",
    "user_name": "userName",
    "user_phone": "userPhone",
}
KEYS = list(FIELDS.values())
UPDATE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # Beijing, no zone; as the ISO-8601 ``since`` of the next load
TIME_REGEX = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"

NULLABLE = ("staffNo", "writingEvaluation", "userName", "userPhone")  # may be null, so may be left out


def client(base_url: str, token: str, **options) -> PagedClient:
    return PagedClient(base_url, token, PATH, page_limit=PAGE_LIMIT, **options)


def read_pages(api: PagedClient, since: str | None, latest_allowed: datetime) -> Iterator[loading.Page]:
    for page in api.pages(since):
        rows = [[line, *json_items.json_values(item, KEYS)] for line, item in enumerate(page.items, start=1)]
        # times in the contract's fixed width order as text: parse from the latest down, only until one is a time
        stamps = sorted({t for i in page.items if isinstance(t := i.get("updateTime"), str) and len(t) == 19},
                        reverse=True)
        latest = next((t for s in stamps if (t := watermark_candidate(s, UPDATE_TIME_FORMAT, latest_allowed))), None)
        yield loading.Page(
            table=TABLE,
            columns=list(FIELDS),
            label=http_api.page_label(page),
            rows=rows,
            bytes_read=page.size,
            watermark=beijing_iso(latest) if latest else None,
            drift=json_items.field_drift(page.items, KEYS, optional=NULLABLE),
        )


def load(warehouse_conn, night: date, api: PagedClient) -> loading.BatchResult:
    return http_api.load(warehouse_conn, night, source=SOURCE, api=api, read_pages=read_pages)


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    return http_api.extract(warehouse_conn, night, source=SOURCE, conn_id=conn_id, path=PATH,
                            read_pages=read_pages, page_limit=PAGE_LIMIT)


CONTRACT = SourceContract(
    name=SOURCE, name_zh="政务服务网", conn_id=CONN_ID, staging_model="stg_pc__evaluations", delivery="http", extract=extract,
    tables=(RawTable(
        TABLE, tuple(FIELDS),
        id_column="evaluation_id", version_column="update_time",
        time=TimeFormat("assess_time", TIME_REGEX),
        level=LevelScale("satisfaction", ("1", "2", "3", "4", "5")),
        case_column="project_no", agency_column="dept_code", sequence_column="assess_number",
        reason_codes=ReasonCodes("eval_detail", ","),
        expect_in_set={"pf": ("1", "7")}, expect_regex={"update_time": TIME_REGEX},
    ),),
)
