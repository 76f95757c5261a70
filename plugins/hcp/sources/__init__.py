"""The sources a night reads, one module each, each declaring its contract once (``CONTRACT``, see
``hcp.sources.contract``; what they send: docs/contract.md §4-§6). Adding a source is adding its module here."""
from __future__ import annotations

from hcp.sources import app, hall, hotline, master, pc, rectification, sms
from hcp.sources.contract import RawTable, SourceContract

SOURCES: dict[str, SourceContract] = {
    m.CONTRACT.name: m.CONTRACT for m in (pc, app, hall, hotline, sms, master, rectification)
}
RAW_TABLES: dict[str, RawTable] = {t.name: t for s in SOURCES.values() for t in s.tables}
