"""The sources a night reads, one module each, and the Airflow connection each needs (domain.md sections 3-5)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hcp import loading
from hcp.sources import app, hall, hotline, master, pc, rectification, sms


@dataclass(frozen=True)
class Source:
    name: str
    conn_id: str
    raw_tables: tuple[str, ...]
    extract: Callable[..., loading.BatchResult]  # (warehouse_conn, night) -> BatchResult
    is_channel: bool = True  # a rating channel, rather than master data or work orders


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(pc.SOURCE, pc.CONN_ID, (pc.TABLE,), pc.extract),
        Source(app.SOURCE, app.CONN_ID, (app.TABLE,), app.extract),
        Source(hall.SOURCE, hall.CONN_ID, (hall.TABLE,), hall.extract),
        Source(hotline.SOURCE, hotline.CONN_ID, (hotline.TABLE,), hotline.extract),
        Source(sms.SOURCE, sms.CONN_ID, (sms.TABLE,), sms.extract),
        Source(master.SOURCE, master.CONN_ID, tuple(t for t, _ in master.FILES.values()), master.extract,
               is_channel=False),
        Source(rectification.SOURCE, rectification.CONN_ID, (rectification.TABLE,), rectification.extract,
               is_channel=False),
    )
}
