"""rectification — work-order events from the supervision system's API (docs/contract.md §6), connection
``hcp_rectification``.

Events come late, out of order and more than once, and the API does not say
when it received them: every load reads back ``LOOKBACK`` before the latest
event time seen. Re-read events are idempotent by ``eventId`` downstream.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta

from hcp import http_api, json_items, loading
from hcp.http_api import PagedClient
from hcp.sources.contract import RawTable, SourceContract
from hcp.timeutil import beijing_iso, parse_iso_to_beijing, watermark_candidate

SOURCE = "rectification"
CONN_ID = "hcp_rectification"
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
COLUMNS = [*FIELDS, "_record"]  # _record keeps the item whole, fields we do not know included
OPTIONAL = ("category", "newDueDate")
EVENT_TYPES = ("opened", "verified", "classified", "extended", "rectified", "feedback", "appeal_upheld",
               "appeal_rejected")  # docs/contract.md §6.2
CATEGORIES = ("clear", "complex", "no_legal_basis")


def client(base_url: str, token: str, **options) -> PagedClient:
    return PagedClient(base_url, token, PATH, **options)


def read_pages(api: PagedClient, watermark: str | None, latest_allowed: datetime) -> Iterator[loading.Page]:
    since = (datetime.fromisoformat(watermark) - LOOKBACK).isoformat() if watermark else None
    latest = watermark
    for page in api.pages(since):
        rows = [[line, *json_items.json_values(item, KEYS), json.dumps(item, ensure_ascii=False, sort_keys=True)]
                for line, item in enumerate(page.items, start=1)]
        for item in page.items:
            stamp = watermark_candidate(item.get("eventTime"), None, latest_allowed)
            if stamp and (latest is None or stamp > parse_iso_to_beijing(latest)):
                latest = beijing_iso(stamp)
        yield loading.Page(table=TABLE, columns=COLUMNS, rows=rows, bytes_read=page.size, watermark=latest,
                           drift=json_items.field_drift(page.items, KEYS, optional=OPTIONAL),
                           label=http_api.page_label(page))


def load(warehouse_conn, night: date, api: PagedClient) -> loading.BatchResult:
    return http_api.load(warehouse_conn, night, source=SOURCE, api=api, read_pages=read_pages)


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    return http_api.extract(warehouse_conn, night, source=SOURCE, conn_id=conn_id, path=PATH, read_pages=read_pages)


def channel_names(sources: Mapping[str, SourceContract]) -> tuple[str, ...]:
    return tuple(name for name, s in sources.items() if s.is_channel)


def no_channel_has_the_rating(sources: Mapping[str, SourceContract]) -> str:
    """An event is about a rating of its channel: that channel's raw table must hold the rating's id. Events
    are read again every night within the lookback: one whose rating lands later passes then."""
    return "\n and ".join(
        f"not exists (select 1 from {s.table.name} x where batch.channel = '{s.name}' "
        f"and x.{s.table.id_column} = batch.evaluation_id)"
        for s in sources.values() if s.is_channel)


TIME_REGEX = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"
CONTRACT = SourceContract(
    name=SOURCE, name_zh="差评整改", conn_id=CONN_ID, delivery="http", extract=extract, is_channel=False,
    validated_after=channel_names,  # an event is judged against its rating, landed tonight or before
    tables=(RawTable(
        TABLE, tuple(COLUMNS), id_column="event_id",
        rules=(
            ("missing_id", "coalesce(btrim(evaluation_id), '') = '' or coalesce(btrim(order_no), '') = ''"),
            ("unknown_event_type", f"coalesce(event_type, '') not in {EVENT_TYPES}"),
            ("bad_time_format", f"coalesce(event_time, '') !~ '{TIME_REGEX}'"),
            ("bad_time_format", "util.to_timestamptz_or_null(event_time) is null"),
            ("unknown_evaluation", no_channel_has_the_rating),
        ),
        expect_not_null=("order_no", "evaluation_id"),
        expect_in_set={"channel": channel_names, "event_type": EVENT_TYPES, "category": CATEGORIES},
        expect_regex={"event_time": TIME_REGEX},
    ),),
)
