"""Landing a batch: COPY into append-only raw tables, audited, all or nothing.

A batch is one source's load for one night. Its rows, its quarantined rows,
the files it took, its ``audit.batches`` row and the source's watermark commit
in one transaction, so a load killed halfway leaves no partial batch and the
next run resumes from the old watermark. Pages stream through COPY one at a
time: memory stays flat however large the night is. The next page is read while the
server takes the current one, so reading the source and COPY overlap.
"""
from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import psycopg2

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rejected:
    """A row (or a whole file, line_no None) that cannot be landed, kept in audit.quarantine with a reason."""

    line_no: int | None
    record: str | None  # the original record as received, decoded as far as it would go
    reason: str  # a code from audit.quarantine's documented list
    detail: str = ""


@dataclass(frozen=True)
class TakenFile:
    name: str  # path relative to the source's root
    checksum: str  # sha256 of the bytes read
    size: int


@dataclass(frozen=True)
class Page:
    """One unit read from a source: an API page, a file, or a slice of a large file."""

    table: str
    columns: Sequence[str]
    label: str  # where the rows came from: page number and cursor, or file name
    rows: Sequence[Sequence[object]]  # values in ``columns`` order, each with its line number first
    bytes_read: int = 0
    watermark: str | None = None  # the source position after this page, when it has one
    taken: TakenFile | None = None  # set on the last page of a file: the file counts as taken
    rejected: Sequence[Rejected] = field(default_factory=tuple)
    drift: frozenset[str] = frozenset()  # "missing <field>" / "unexpected <field>": the source left its contract
    # Rows already as COPY input, a line each with the line number as its last value (``rows`` is then empty),
    # in COPY's text or csv format. ``parse`` gives (rows, rejected) for them when COPY refuses the text.
    copy_text: str | None = None
    copy_format: str = "text"
    parse: Callable[[], tuple[Sequence[Sequence[object]], Sequence[Rejected]]] | None = None


@dataclass(frozen=True)
class BatchResult:
    batch_id: int
    source: str
    status: str
    rows_read: int
    rows_landed: int
    rows_rejected: int
    bytes_read: int
    files_taken: int
    watermark_before: str | None
    watermark_after: str | None


def _copy_value(value: object) -> str:
    if value is None:
        return r"\N"
    text = value if isinstance(value, str) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_buffer(rows: Iterable[Sequence[object]], batch_id: int, label: str) -> io.StringIO:
    lines = []
    suffix = f"\t{batch_id}\t{_copy_value(label)}\t"
    for row in rows:
        values = row[1:]
        # Most rows hold nothing COPY must escape: join them as they are and count what a clean row holds (a
        # backslash per \N, a tab between values, no newline) to prove it; escape value by value otherwise.
        line = "\t".join([r"\N" if v is None else v if v.__class__ is str else str(v) for v in values])
        if (line.count("\\") != values.count(None) or line.count("\t") != len(values) - 1
                or "\n" in line or "\r" in line):
            line = "\t".join([_copy_value(v) for v in values])
        lines.append(f"{line}{suffix}{row[0]}\n")
    return io.StringIO("".join(lines))


def watermark_of(conn, source: str) -> str | None:
    with conn.cursor() as cur:
        cur.execute("select value from audit.watermarks where source = %s", (source,))
        found = cur.fetchone()
    return found[0] if found else None


def files_taken(conn, source: str) -> set[tuple[str, str]]:
    """(name, checksum) of every file this source has landed: a file is taken again only when its bytes change."""
    with conn.cursor() as cur:
        cur.execute("select file_name, checksum from audit.files_taken where source = %s", (source,))
        return set(cur.fetchall())


def land_batch(
    conn,
    *,
    source: str,
    night: date,
    read_pages: Callable[[str | None], Iterator[Page]],
    redact: Callable[[str], str] = lambda s: s,
) -> BatchResult:
    """Read pages from the source's watermark on and land them as one batch.

    ``read_pages(watermark)`` yields the pages; ``redact`` scrubs secrets from an
    error before it is logged or stored.
    """
    batch_id = _open_batch(conn, source, night)
    landing = _Landing(batch_id, source)
    try:
        with conn.cursor() as cur:
            # One load per source at a time; a second waits rather than reading the same pages twice.
            cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"hcp.load.{source}",))
            # Lock order: audit.batches before the raw tables, as warehouse.ensure_schema takes them. Another
            # task's DDL then waits for this load instead of deadlocking with it.
            cur.execute("select 1 from audit.batches where batch_id = %s for update", (batch_id,))
            landing.watermark_before = landing.watermark = watermark_of(conn, source)
            for page in _read_ahead(read_pages(landing.watermark_before)):
                landing.land(cur, page)
            _close_batch(cur, landing)
        conn.commit()
    except BaseException as exc:
        conn.rollback()
        _fail_batch(conn, landing, redact(f"{type(exc).__name__}: {exc}"))
        raise
    # after the commit and outside the try: the batch has succeeded, whatever becomes of its statistics
    _analyze(conn, landing.tables)
    result = BatchResult(batch_id, source, "succeeded", landing.landed + landing.rejected, landing.landed,
                         landing.rejected, landing.bytes_read, landing.taken, landing.watermark_before,
                         landing.watermark)
    log.info("landed %s", result)
    return result


def _open_batch(conn, source: str, night: date) -> int:
    """A new 'running' batch, committed at once so that a crash leaves a trace."""
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
    return batch_id


@dataclass
class _Landing:
    """What a batch has landed so far, page by page, in its open transaction."""

    batch_id: int
    source: str
    landed: int = 0
    rejected: int = 0
    bytes_read: int = 0
    taken: int = 0
    watermark_before: str | None = None
    watermark: str | None = None
    drift: set[str] = field(default_factory=set)
    tables: set[str] = field(default_factory=set)

    def land(self, cur, page: Page) -> None:
        self.bytes_read += page.bytes_read
        self.drift |= page.drift
        if page.copy_text:
            copied = _copy_text(cur, page, self.batch_id)
            if copied is None:  # refused: the page's rows and rejections, parsed line by line
                rows, rejected_rows = page.parse()
                page = dataclasses.replace(page, rows=rows, rejected=rejected_rows)
            else:
                self.landed += copied
                self.tables.add(page.table)
        if page.rows:
            columns = ", ".join([*page.columns, "_batch_id", "_source_page", "_line_no"])
            cur.copy_expert(f"copy {page.table} ({columns}) from stdin",
                            _copy_buffer(page.rows, self.batch_id, page.label))
            self.landed += cur.rowcount
            self.tables.add(page.table)
        if page.rejected:
            _quarantine(cur, self.batch_id, self.source, page)
            self.rejected += len(page.rejected)
        if page.taken is not None:
            cur.execute(
                "insert into audit.files_taken (source, file_name, checksum, size_bytes, batch_id) "
                "values (%s, %s, %s, %s, %s) on conflict do nothing",
                (self.source, page.taken.name, page.taken.checksum, page.taken.size, self.batch_id),
            )
            self.taken += 1
        if page.watermark is not None:
            self.watermark = page.watermark


def _close_batch(cur, landing: _Landing) -> None:
    """The watermark moved and the batch marked succeeded, in the transaction that holds its rows."""
    if landing.watermark is not None and landing.watermark != landing.watermark_before:
        cur.execute(
            """
            insert into audit.watermarks (source, value, batch_id) values (%s, %s, %s)
            on conflict (source) do update
                set value = excluded.value, batch_id = excluded.batch_id, updated_at = clock_timestamp()
            """,
            (landing.source, landing.watermark, landing.batch_id),
        )
    cur.execute(
        """
        update audit.batches
           set status = 'succeeded', rows_read = %s, rows_landed = %s, rows_rejected = %s,
               bytes_read = %s, files_taken = %s, watermark_before = %s, watermark_after = %s,
               schema_drift = %s, ended_at = clock_timestamp()
         where batch_id = %s
        """,
        (landing.landed + landing.rejected, landing.landed, landing.rejected, landing.bytes_read, landing.taken,
         landing.watermark_before, landing.watermark, sorted(landing.drift), landing.batch_id),
    )


def _fail_batch(conn, landing: _Landing, error: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """
            update audit.batches
               set status = 'failed', bytes_read = %s, watermark_before = %s,
                   ended_at = clock_timestamp(), error = %s
             where batch_id = %s
            """,
            (landing.bytes_read, landing.watermark_before, error, landing.batch_id),
        )
    conn.commit()
    log.error("batch %s of %s failed: %s", landing.batch_id, landing.source, error)


def _copy_text(cur, page: Page, batch_id: int) -> int | None:
    """COPY a page's ready text, each line given the batch and the page: the rows landed, or None when the
    server refused the text and the page has a way to parse it instead (a savepoint undoes the attempt)."""
    columns = ", ".join([*page.columns, "_line_no", "_batch_id", "_source_page"])
    if page.copy_format == "csv":  # the page's name holds no comma, quote or newline (files.csv_file_pages)
        statement, suffix = f"copy {page.table} ({columns}) from stdin with (format csv)", f",{batch_id},{page.label}\n"
    else:
        statement, suffix = f"copy {page.table} ({columns}) from stdin", f"\t{batch_id}\t{_copy_value(page.label)}\n"
    # Neither format leaves a newline inside a value of these pages: every newline ends a row.
    text = io.StringIO(page.copy_text.replace("\n", suffix))
    if page.parse is None:
        cur.copy_expert(statement, text)
        return cur.rowcount
    cur.execute("savepoint hcp_page")
    try:
        cur.copy_expert(statement, text)
    except psycopg2.DataError:  # too many or too few fields on a line, a character the server will not take
        cur.execute("rollback to savepoint hcp_page")
        return None
    copied = cur.rowcount
    cur.execute("release savepoint hcp_page")
    return copied


def _analyze(conn, tables: set[str]) -> None:
    """Statistics that know the new batch. A night adds a few percent to a table with history, too little for
    autovacuum to analyze it: validation and dbt, which select the batch by its id, would be planned as if it
    held one row (nested loops over tens of thousands of rows).

    A table's first batch analyzes every column. After that only ``_batch_id``, on 3,000 rows (its statistics
    target, sql/raw.sql): a night barely moves the other columns, which autovacuum analyzes once the table
    has grown by a tenth. The whole sample of 30,000 rows reads as many pages scattered over a table with
    history, ten times the time of the small one."""
    with conn.cursor() as cur:
        for table in sorted(tables):
            cur.execute("select reltuples < 0 from pg_class where oid = %s::regclass", (table,))
            (never_analyzed,) = cur.fetchone()
            cur.execute(f"analyze {table}" if never_analyzed else f"analyze {table} (_batch_id)")
    conn.commit()


def _read_ahead(pages: Iterator[Page]) -> Iterator[Page]:
    """The source's pages, each next one read in a worker thread while the caller lands this one.

    Reading a page (HTTP, gunzip, decoding, parsing) holds the GIL; COPY waits on the server without it,
    so the two overlap. One page ahead at most: memory stays at two pages. The reader's errors reach the
    caller when it asks for that page.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hcp-read-ahead") as reader:
        pending = reader.submit(next, pages, None)
        while (page := pending.result()) is not None:
            pending = reader.submit(next, pages, None)
            yield page


def _quarantine(cur, batch_id: int, source: str, page: Page) -> None:
    buffer = io.StringIO()
    for r in page.rejected:
        values = [batch_id, source, page.label, r.line_no, r.record, r.reason, r.detail]
        # a rejected line may hold a NUL beside whatever rejected it: kept visible as \x00, which text can hold
        buffer.write("\t".join(_copy_value(v).replace("\x00", "\\\\x00") for v in values) + "\n")
    buffer.seek(0)
    cur.copy_expert(
        "copy audit.quarantine (batch_id, source, source_page, line_no, record, reason, detail) from stdin", buffer)
