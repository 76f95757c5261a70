"""The sources a night reads, and the Airflow connection each one needs (domain.md sections 3-5)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hcp import loading
from hcp.channels import pc


@dataclass(frozen=True)
class Source:
    name: str
    conn_id: str
    raw_table: str
    extract: Callable[..., loading.BatchResult]  # (warehouse_conn, night) -> BatchResult


SOURCES: dict[str, Source] = {
    pc.SOURCE: Source(pc.SOURCE, pc.CONN_ID, pc.TABLE, pc.extract),
}
