"""Landing a batch: COPY into an append-only raw table, audited, all or nothing.

A batch is one source's load for one night. Its rows, its ``audit.batches``
row and the source's watermark commit in one transaction, so a load killed
halfway leaves no partial batch and the next run resumes from the old
watermark. Pages stream through COPY one at a time: memory stays flat.
"""
from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Page:
    """One unit read from a source: an API page or a file."""

    label: str  # where the rows came from: page number and cursor, or file name
    rows: Sequence[Sequence[object]]  # values in the raw table's column order
    bytes_read: int
    watermark: str | None  # the source position after this page, when it has one


@dataclass(frozen=True)
class BatchResult:
    batch_id: int
    source: str
    status: str
    rows_read: int
    rows_landed: int
    bytes_read: int
    watermark_before: str | None
    watermark_after: str | None


def _copy_value(value: object) -> str:
    if value is None:
        return r"\N"
    text = value if isinstance(value, str) else str(value)
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r"))


def _copy_buffer(rows: Iterable[Sequence[object]], batch_id: int, label: str) -> tuple[io.StringIO, int]:
    buffer = io.StringIO()
    count = 0
    for line_no, row in enumerate(rows, start=1):
        fields = [_copy_value(v) for v in row]
        fields += [str(batch_id), _copy_value(label), str(line_no)]
        buffer.write("\t".join(fields))
        buffer.write("\n")
        count += 1
    buffer.seek(0)
    return buffer, count


def land_batch(
    conn,
    *,
    source: str,
    night: date,
    table: str,
    columns: Sequence[str],
    read_pages: Callable[[str | None], Iterator[Page]],
    redact: Callable[[str], str] = lambda s: s,
) -> BatchResult:
    """Read pages from the source's watermark on and land them as one batch.

    ``read_pages(watermark)`` yields the pages; ``redact`` scrubs secrets from an
    error before it is logged or stored.
    """
    with conn.cursor() as cur:
        # A loader killed mid-batch leaves its row 'running'; its rows were never committed.
        cur.execute(
            """
            update audit.batches
               set status = 'failed', ended_at = clock_timestamp(), error = 'abandoned: the loader died mid-batch'
             where source = %s and status = 'running'
               and loader_pid not in (select pid from pg_stat_activity where pid is not null)
            """,
            (source,),
        )
        cur.execute(
            """
            insert into audit.batches (source, night, status, loader_pid)
            values (%s, %s, 'running', pg_backend_pid()) returning batch_id
            """,
            (source, night),
        )
        batch_id = cur.fetchone()[0]
    conn.commit()

    copy_sql = f"copy {table} ({', '.join([*columns, '_batch_id', '_source_page', '_line_no'])}) from stdin"
    rows_read = rows_landed = bytes_read = 0
    watermark_before = watermark = None
    try:
        with conn.cursor() as cur:
            # One load per source at a time; a second waits rather than reading the same pages twice.
            cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"hcp.load.{source}",))
            cur.execute("select value from audit.watermarks where source = %s", (source,))
            found = cur.fetchone()
            watermark_before = watermark = found[0] if found else None
            for page in read_pages(watermark_before):
                buffer, count = _copy_buffer(page.rows, batch_id, page.label)
                rows_read += count
                bytes_read += page.bytes_read
                cur.copy_expert(copy_sql, buffer)
                rows_landed += cur.rowcount
                if page.watermark is not None:
                    watermark = page.watermark
            if watermark is not None:
                cur.execute(
                    """
                    insert into audit.watermarks (source, value, batch_id) values (%s, %s, %s)
                    on conflict (source) do update
                        set value = excluded.value, batch_id = excluded.batch_id, updated_at = clock_timestamp()
                    """,
                    (source, watermark, batch_id),
                )
            cur.execute(
                """
                update audit.batches
                   set status = 'succeeded', rows_read = %s, rows_landed = %s, bytes_read = %s,
                       watermark_before = %s, watermark_after = %s, ended_at = clock_timestamp()
                 where batch_id = %s
                """,
                (rows_read, rows_landed, bytes_read, watermark_before, watermark, batch_id),
            )
        conn.commit()
    except BaseException as exc:
        conn.rollback()
        error = redact(f"{type(exc).__name__}: {exc}")
        with conn.cursor() as cur:
            cur.execute(
                """
                update audit.batches
                   set status = 'failed', rows_read = %s, bytes_read = %s, watermark_before = %s,
                       ended_at = clock_timestamp(), error = %s
                 where batch_id = %s
                """,
                (rows_read, bytes_read, watermark_before, error, batch_id),
            )
        conn.commit()
        log.error("batch %s of %s failed: %s", batch_id, source, error)
        raise
    result = BatchResult(batch_id, source, "succeeded", rows_read, rows_landed, bytes_read, watermark_before, watermark)
    log.info("landed %s", result)
    return result
