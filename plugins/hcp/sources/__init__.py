"""The sources a night reads, one module each, and the Airflow connection each needs (docs/contract.md §4-§6)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hcp import loading
from hcp.sources import app, hall, hotline, master, pc, rectification, sms


@dataclass(frozen=True)
class Source:
    name: str
    conn_id: str
    conn_type: str  # what the connection must hold (hcp.preflight): fs a folder, http a URL, postgres a host
    raw_tables: tuple[str, ...]
    extract: Callable[..., loading.BatchResult]  # (warehouse_conn, night) -> BatchResult
    is_channel: bool = True  # a rating channel, rather than master data or work orders


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(pc.SOURCE, pc.CONN_ID, pc.CONN_TYPE, (pc.TABLE,), pc.extract),
        Source(app.SOURCE, app.CONN_ID, app.CONN_TYPE, (app.TABLE,), app.extract),
        Source(hall.SOURCE, hall.CONN_ID, hall.CONN_TYPE, (hall.TABLE,), hall.extract),
        Source(hotline.SOURCE, hotline.CONN_ID, hotline.CONN_TYPE, (hotline.TABLE,), hotline.extract),
        Source(sms.SOURCE, sms.CONN_ID, sms.CONN_TYPE, (sms.TABLE,), sms.extract),
        Source(master.SOURCE, master.CONN_ID, master.CONN_TYPE, tuple(t for t, _ in master.FILES.values()),
               master.extract, is_channel=False),
        Source(rectification.SOURCE, rectification.CONN_ID, rectification.CONN_TYPE, (rectification.TABLE,),
               rectification.extract, is_channel=False),
    )
}
