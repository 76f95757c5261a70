"""hotline — the 12345 hotline's PostgreSQL table (docs/contract.md §4.4), connection ``hcp_hotline``.

Rows change after they were first read (``modified_time`` is set on every
change, withdrawals are soft deletes), so each load reads every row modified
since the watermark, less an overlap for transactions that committed late.
Rows come in pages of COPY text: memory stays flat.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import psycopg2

from hcp import connections, files, loading
from hcp.sources.contract import LevelScale, RawTable, SourceContract, TimeFormat
from hcp.timeutil import BEIJING, latest_source_time

SOURCE = "hotline"
CONN_ID = "hcp_hotline"
TABLE = "raw.hotline_evaluations"
COLUMNS = ["id", "work_order_no", "case_no", "item_code", "dept_code", "area_code", "platform_code", "staff_no",
           "satisfaction", "visit_time", "modified_time", "caller_phone", "is_deleted"]
# A row whose transaction commits after a later one was read carries an older modified_time:
# re-read this much before the watermark every night (duplicates are resolved downstream).
OVERLAP = timedelta(minutes=10)
# Each page is one COPY out of the source, its text landed as it comes: no Python per row. Values read as the
# loader wrote them from Python before (ISO 8601 times in Beijing, microseconds only when there are some,
# booleans as true/false), each line ending in its line number in the load. Pages follow the source's index
# on (modified_time, id), each from the last row of the one before.
ISO_TIME = """(to_char({0}, 'YYYY-MM-DD"T"HH24:MI:SS')
               || case when {0} = date_trunc('second', {0}) then '' else to_char({0}, '.US') end
               || to_char({0}, 'TZH:TZM'))"""
PAGE_QUERY = f"""
    copy (
        select id, work_order_no, case_no, item_code, dept_code, area_code, platform_code, staff_no, satisfaction,
               {ISO_TIME.format("visit_time")}, {ISO_TIME.format("modified_time")}, caller_phone, is_deleted::text,
               {{lines_before}} + row_number() over (order by modified_time, id)
        from public.hotline_evaluation
        where {{after}} and modified_time <= {{latest}}
        order by modified_time, id
        limit {{page_rows}}
    ) to stdout
"""


def read_pages(source_conn, since: str | None, latest_allowed: datetime,
               page_rows: int = files.PAGE_ROWS) -> Iterator[loading.Page]:
    """Rows changed since the watermark (less the overlap) and up to ``latest_allowed``: a row stamped later is
    read by the night its time belongs to, so a night reads the same rows whenever it runs, and a clock far
    ahead cannot move the watermark past changes still to come."""
    with source_conn.cursor() as cur:
        cur.execute("set time zone 'Asia/Shanghai'")  # timestamps land in Beijing time, whatever the server says
        after = cur.mogrify("modified_time >= %s", (datetime.fromisoformat(since) - OVERLAP,)).decode() \
            if since else "true"
        latest = cur.mogrify("%s", (latest_allowed.replace(tzinfo=BEIJING),)).decode()
        line = 0
        while True:
            buffer = io.StringIO()
            cur.copy_expert(PAGE_QUERY.format(lines_before=line, after=after, latest=latest, page_rows=page_rows),
                            buffer)
            text = buffer.getvalue()
            if not text:
                return
            last = text[text.rfind("\n", 0, len(text) - 1) + 1:-1].split("\t")
            count = int(last[-1]) - line
            # a time PostgreSQL writes as no date (-infinity) leaves the watermark where it is
            yield loading.Page(table=TABLE, columns=COLUMNS, label=f"rows {line + 1}-{line + count}", rows=[],
                               copy_text=text, watermark=last[10] or None)
            line += count
            # the next page starts after the last row's own value, not its text: ids are the table's key
            after = cur.mogrify("(modified_time, id) > (select modified_time, id from public.hotline_evaluation "
                                "where id = %s)", (int(last[0]),)).decode()


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    conn = connections.get_connection(conn_id)
    kwargs = connections.postgres_kwargs(conn)
    password = kwargs.get("password") or ""
    source_conn = psycopg2.connect(**{"application_name": "haochaping-hotline", "connect_timeout": 15, **kwargs})
    # one snapshot for all the pages, as one query would see
    source_conn.set_session(readonly=True, isolation_level="REPEATABLE READ")
    try:
        return loading.land_batch(
            warehouse_conn, source=SOURCE, night=night,
            read_pages=lambda since: read_pages(source_conn, since, latest_source_time(night)),
            redact=lambda text: text.replace(password, "***") if password else text,
        )
    finally:
        source_conn.close()


CONTRACT = SourceContract(
    name=SOURCE, name_zh="12345热线", conn_id=CONN_ID, staging_model="stg_hotline__evaluations", delivery="postgres", extract=extract,
    tables=(RawTable(
        TABLE, tuple(COLUMNS), id_column="id", version_column="modified_time",
        time=TimeFormat("visit_time", r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", type="timestamptz"),
        level=LevelScale("satisfaction", ("满意", "基本满意", "不满意"), trimmed=True),
        case_column="case_no", agency_column="dept_code",
        expect_not_null=("modified_time",), expect_in_set={"is_deleted": ("true", "false")},
    ),),
)
