"""hotline — the 12345 hotline's PostgreSQL table (domain.md 3.4), connection ``hcp_hotline``.

Rows change after they were first read (``modified_time`` is set on every
change, withdrawals are soft deletes), so each load reads every row modified
since the watermark, less an overlap for transactions that committed late.
Rows stream through a server-side cursor: memory stays flat.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import psycopg2

from hcp import connections, files, loading

SOURCE = "hotline"
CONN_ID = "hcp_hotline"
TABLE = "raw.hotline_evaluations"
COLUMNS = ["id", "work_order_no", "case_no", "item_code", "dept_code", "area_code", "platform_code", "staff_no",
           "satisfaction", "visit_time", "modified_time", "caller_phone", "is_deleted"]
# A row whose transaction commits after a later one was read carries an older modified_time:
# re-read this much before the watermark every night (duplicates are resolved downstream).
OVERLAP = timedelta(minutes=10)
QUERY = """
    select id, work_order_no, case_no, item_code, dept_code, area_code, platform_code, staff_no,
           satisfaction, visit_time, modified_time, caller_phone, is_deleted
    from public.hotline_evaluation
    where modified_time >= %s
    order by modified_time, id
"""


def read_pages(source_conn, since: str | None, page_rows: int = files.PAGE_ROWS) -> Iterator[loading.Page]:
    start = datetime.fromisoformat(since) - OVERLAP if since else datetime(1970, 1, 1).astimezone()
    with source_conn.cursor() as cur:
        cur.execute("set time zone 'Asia/Shanghai'")  # timestamps land in Beijing time, whatever the server says
    with source_conn.cursor(name="hcp_hotline_read") as cur:
        cur.itersize = page_rows
        cur.execute(QUERY, (start,))
        number = line = 0
        while rows := cur.fetchmany(page_rows):
            number += 1
            page = []
            for row in rows:
                line += 1
                page.append([line, *(_text(v) for v in row)])
            yield loading.Page(table=TABLE, columns=COLUMNS, label=f"rows {line - len(rows) + 1}-{line}",
                               rows=page, watermark=rows[-1][10].isoformat())


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    conn = connections.get_connection(conn_id)
    kwargs = connections.postgres_kwargs(conn)
    password = kwargs.get("password") or ""
    source_conn = psycopg2.connect(application_name="haochaping-hotline", connect_timeout=15, **kwargs)
    source_conn.set_session(readonly=True)
    try:
        return loading.land_batch(
            warehouse_conn, source=SOURCE, night=night,
            read_pages=lambda since: read_pages(source_conn, since),
            redact=lambda text: text.replace(password, "***") if password else text,
        )
    finally:
        source_conn.close()
