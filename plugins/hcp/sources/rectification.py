"""rectification — work-order events from the supervision system's API (docs/contract.md §6), connection
``hcp_rectification``.

Events come late, out of order and more than once, and the API does not say
when it received them: every load reads back ``LOOKBACK`` before the latest
event time seen. Re-read events are idempotent by ``eventId`` downstream.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from hcp import connections, loading
from hcp.http_api import PagedClient
from hcp.timeutil import beijing_iso, latest_source_time, parse_iso_to_beijing, watermark_candidate

SOURCE = "rectification"
CONN_ID = "hcp_rectification"
CONN_TYPE = "http"
TABLE = "raw.rectification_events"
PATH = "/api/rectification/events"
LOOKBACK = timedelta(days=45)  # longer than any deadline (15 working days) plus an extension's usual reach
FIELDS = {
    "event_id": "eventId",
    "order_no": "orderNo",
    "channel": "channel",
    "evaluation_id": "evaluationId",
    "event_type": "eventType",
    "event_time": "eventTime",
    "org_code": "orgCode",
    "category": "category",
    "new_due_date": "newDueDate",
}
KEYS = list(FIELDS.values())
COLUMNS = [*FIELDS, "_record"]


def client(base_url: str, token: str, **options) -> PagedClient:
    return PagedClient(base_url, token, PATH, **options)


def read_pages(api: PagedClient, watermark: str | None, latest_allowed: datetime) -> Iterator[loading.Page]:
    since = (datetime.fromisoformat(watermark) - LOOKBACK).isoformat() if watermark else None
    latest = watermark
    for page in api.pages(since):
        rows = [[line, *loading.json_values(item, KEYS), json.dumps(item, ensure_ascii=False, sort_keys=True)]
                for line, item in enumerate(page.items, start=1)]
        for item in page.items:
            stamp = watermark_candidate(item.get("eventTime"), None, latest_allowed)
            if stamp and (latest is None or stamp > parse_iso_to_beijing(latest)):
                latest = beijing_iso(stamp)
        drift = loading.field_drift(page.items, list(FIELDS.values()), optional=("category", "newDueDate"))
        yield loading.Page(table=TABLE, columns=COLUMNS, rows=rows, bytes_read=page.size, watermark=latest, drift=drift,
                           label=f"page {page.number}" + (f" cursor {page.cursor}" if page.cursor else ""))


def load(warehouse_conn, night: date, api: PagedClient) -> loading.BatchResult:
    latest_allowed = latest_source_time(night)
    return loading.land_batch(warehouse_conn, source=SOURCE, night=night,
                              read_pages=lambda watermark: read_pages(api, watermark, latest_allowed),
                              redact=api.redact)


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    conn = connections.get_connection(conn_id)
    return load(warehouse_conn, night, client(connections.http_base_url(conn), conn.password or "",
                                              session=connections.http_session(conn)))
