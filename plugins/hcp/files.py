"""Reading delivered files: the folder a source delivers to, files not taken yet, completeness markers, and CSV
that keeps every bad row with a reason.

A file is read twice: once to checksum it, so a file already taken is skipped
before any row lands, and once to parse it (a .gz stream is proven whole before
its first row lands). If the bytes differ between the two reads the file was replaced
while being read, and the batch fails rather than land a mix.
"""
from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import itertools
import logging
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from airflow.sdk import Connection

from hcp import connections, loading
from hcp.quarantine import check

log = logging.getLogger(__name__)

CHUNK = 1 << 20
PAGE_ROWS = 10_000  # rows per COPY: memory stays flat however large a file is
BOMS = ("\ufeff",)  # a BOM decodes to U+FEFF in both UTF-8 and GB18030
_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes that did not decode, as surrogateescape leaves them


class FileChangedWhileReading(RuntimeError):
    transient = True  # a delivery still being written: read again later, it is whole


@dataclass(frozen=True)
class Fingerprint:
    checksum: str
    size: int
    problem: str | None = None  # a quarantine reason when the file cannot be read at all


def folder_of(conn: Connection) -> Path:
    """The delivery folder: ``extra.path`` of an Airflow ``fs`` connection (the host, when no extra is set)."""
    path = conn.extra_dejson.get("path") or conn.host
    if not path:
        raise connections.MissingConnection(f"connection '{conn.conn_id}' has no extra.path")
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"connection '{conn.conn_id}' points at {root}, which is not a folder")
    return root


def extract(warehouse_conn, night: date, *, source: str, conn_id: str,
            read_pages: Callable[[object, Path], Iterator[loading.Page]]) -> loading.BatchResult:
    """One night's batch of a file source: ``read_pages(warehouse_conn, folder)`` over its delivery folder."""
    root = folder_of(connections.get_connection(conn_id))
    return loading.land_batch(warehouse_conn, source=source, night=night,
                              read_pages=lambda _: read_pages(warehouse_conn, root))


def complete_folders(root: Path, pattern: str) -> list[Path]:
    """Folders matching ``pattern`` that hold ``_SUCCESS``, oldest first; the others are still being written."""
    folders = sorted(p for p in root.glob(pattern) if p.is_dir())
    waiting = [p.name for p in folders if not (p / "_SUCCESS").exists()]
    if waiting:
        log.info("%s: waiting for _SUCCESS in %s", root, ", ".join(waiting))
    return [p for p in folders if (p / "_SUCCESS").exists()]


def not_taken(conn, source: str, files: Iterable[tuple[Path, str]]) -> Iterator[tuple[Path, str, Fingerprint]]:
    """The (path, name) files whose bytes this source has not landed yet, each with its fingerprint. A file
    delivered again with other bytes is taken again; the same bytes never twice."""
    taken = loading.files_taken(conn, source)
    for path, name in files:
        print_ = fingerprint(path)
        if (name, print_.checksum) not in taken:
            yield path, name, print_


def fingerprint(path: Path) -> Fingerprint:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
            size += len(block)
    return Fingerprint(digest.hexdigest(), size)


def gunzip(path: Path, keep_up_to: int) -> tuple[bytes | None, str | None]:
    """A gzip file decompressed in one pass: its bytes when they come to at most ``keep_up_to`` (else None), and
    the quarantine reason when the stream is not whole. A stream is proven whole before any row of it lands;
    a file too large to hold is proven by this pass and parsed by a second one."""
    chunks: list[bytes] | None = []
    size = 0
    try:
        with gzip.open(path, "rb") as f:
            while block := f.read(CHUNK):
                size += len(block)
                if chunks is not None and size <= keep_up_to:
                    chunks.append(block)
                else:
                    chunks = None
    except EOFError:
        return None, "truncated_gzip"
    except (OSError, zlib.error):
        return None, "unreadable_file"
    return (b"".join(chunks) if chunks is not None else None), None


def ensure_unchanged(path: Path, before: Fingerprint) -> None:
    after = fingerprint(path)
    if after.checksum != before.checksum:
        raise FileChangedWhileReading(f"{path} changed while it was being read; the batch is rolled back")


_EMPTY = loading.Rejected(None, None, "")  # a file without even a header: nothing to land, nothing wrong


def _header_rejected(reader, expected_header: Sequence[str]) -> loading.Rejected | None:
    """Reads the header from ``reader``: None when it is the expected one, else why the file cannot land."""
    try:
        header = next(reader)
    except StopIteration:
        return _EMPTY
    if header and header[0].startswith(BOMS):
        header[0] = header[0][1:]
    if [h.strip() for h in header] == list(expected_header):
        return None
    missing = [h for h in expected_header if h not in header]
    extra = [h for h in header if h not in expected_header]
    detail = f"missing {missing}, unexpected {extra}" if missing or extra else f"order {header}"
    return loading.Rejected(None, _visible(",".join(header)), check("header_mismatch"), detail)


def _checked_records(reader, width: int, lines_before: int = 0) -> Iterator[tuple[int, list[str] | None,
                                                                                loading.Rejected | None]]:
    """The records after the header, each judged; ``lines_before`` the file's lines before the reader's first."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = lines_before + reader.line_num
            yield line, None, loading.Rejected(line, None, check("wrong_field_count"), str(exc))
            continue
        line = lines_before + reader.line_num
        if not row:
            continue
        record = ",".join(row)
        if _UNDECODED.search(record):
            yield line, None, loading.Rejected(line, _visible(record), check("bad_encoding"))
        elif "\x00" in record:
            yield line, None, loading.Rejected(line, record.replace("\x00", "\\x00"), check("nul_byte"))
        elif len(row) != width:
            yield line, None, loading.Rejected(line, record, check("wrong_field_count"),
                                               f"{len(row)} fields, header has {width}")
        else:
            yield line, row, None


def _visible(text: str) -> str:
    """Undecodable bytes as \\xNN escapes, so the record is kept as received and stays valid text."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def paged(records: Iterator[tuple[int, list | None, loading.Rejected | None]], make_row, page_rows: int = PAGE_ROWS):
    """Group parsed records into (rows, rejected) chunks of at most page_rows each."""
    rows: list = []
    rejected: list[loading.Rejected] = []
    for line, fields, rejection in records:
        if rejection is not None:
            rejected.append(rejection)
        else:
            rows.append(make_row(line, fields))
        if len(rows) + len(rejected) >= page_rows:
            yield rows, rejected
            rows, rejected = [], []
    yield rows, rejected


def csv_file_pages(path: Path, name: str, print_: Fingerprint, *, table: str, columns: Sequence[str],
                   header: Sequence[str], encoding: str, extra: Sequence[str] = ()) -> Iterator[loading.Page]:
    """Pages of one CSV file; ``extra`` values (from the file name) are appended to every row.

    A page of plain lines (no quote, lone carriage return, NUL, blank line or undecodable byte) goes to PostgreSQL
    as CSV for COPY to parse, each line with its extra values and line number appended: no Python per value.
    Should COPY refuse it (a line with too many or too few fields), the page is parsed here line by line
    instead, and each bad line gets its reason. A page with a quote, which may open a field over several
    lines, sends the rest of the file down the line-by-line path.
    """
    extra = list(extra)
    # an empty field is NULL; a list, not a generator: this runs once for every row of every file
    make_row = lambda line, fields: [line, *[v or None for v in fields], *extra]  # noqa: E731
    plain_extras = not any(_UNPLAIN.search(v) for v in [*extra, name])
    with open(path, "rb") as raw:
        if raw.read(3) != b"\xef\xbb\xbf":  # a UTF-8 BOM, even before GB18030 text: tolerated, not data
            raw.seek(0)
        text = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
        reader = csv.reader(text)
        rejected = _header_rejected(reader, header)
        if rejected is not None:
            if rejected is not _EMPTY:
                yield loading.Page(table=table, columns=columns, label=name, rows=[], rejected=[rejected])
        else:
            lines_before = reader.line_num
            while lines := list(itertools.islice(text, PAGE_ROWS)):
                body = "".join(lines)
                if '"' in body or not plain_extras:
                    records = _checked_records(csv.reader(itertools.chain(lines, text)), len(header), lines_before)
                    for rows, rejected in paged(records, make_row):
                        yield loading.Page(table=table, columns=columns, label=name, rows=rows, rejected=rejected)
                    break
                parse = functools.partial(_parsed_page, lines, lines_before, len(header), make_row)
                if "\r" in body and body.count("\r") == body.count("\r\n"):  # Windows line ends, as the csv module reads them
                    body = body.replace("\r\n", "\n")
                if _UNPLAIN_BODY.search(body) or body.startswith("\n") or "\n\n" in body:
                    rows, rejected = parse()
                    yield loading.Page(table=table, columns=columns, label=name, rows=rows, rejected=rejected)
                else:
                    yield loading.Page(table=table, columns=columns, label=name, rows=[], parse=parse,
                                       copy_text=_numbered(body, extra, lines_before + 1), copy_format="csv")
                lines_before += len(lines)
    # Pages so far sit in the batch's open transaction: a file replaced meanwhile rolls them all back.
    ensure_unchanged(path, print_)
    yield taken_page(name, print_, table, columns)


_UNPLAIN = re.compile('[,"\r\n\x00\udc80-\udcff]')  # what a value appended to a CSV line must not hold
_UNPLAIN_BODY = re.compile("[\r\x00\udc80-\udcff]")  # lines COPY would read otherwise than the csv module


def _numbered(body: str, extra: Sequence[str], first_line: int) -> str:
    """CSV lines with the extra values and each line's number appended."""
    lines = body.split("\n")
    if lines[-1] == "":  # the usual last newline; a last line without one is a line all the same
        lines.pop()
    tail = "".join(f",{v}" for v in extra)
    return "".join([f"{line}{tail},{n}\n" for n, line in enumerate(lines, start=first_line)])


def _parsed_page(lines: list[str], lines_before: int, width: int, make_row) -> tuple[list, list[loading.Rejected]]:
    """One page's lines parsed and judged here, line by line: (rows, rejected)."""
    rows, rejected = [], []
    for line, fields, rejection in _checked_records(csv.reader(lines), width, lines_before):
        if rejection is not None:
            rejected.append(rejection)
        else:
            rows.append(make_row(line, fields))
    return rows, rejected


def taken_page(name: str, print_: Fingerprint, table: str, columns: Sequence[str]) -> loading.Page:
    return loading.Page(table=table, columns=columns, label=name, rows=[], bytes_read=print_.size,
                        taken=loading.TakenFile(name, print_.checksum, print_.size))


def rejected_file_page(name: str, print_: Fingerprint, table: str, columns: Sequence[str]) -> loading.Page:
    """A file that cannot be read at all: one quarantine row, and the file counts as taken (a fix has new bytes)."""
    return loading.Page(table=table, columns=columns, label=name, rows=[], bytes_read=print_.size,
                        rejected=[loading.Rejected(None, None, check(print_.problem), name)],
                        taken=loading.TakenFile(name, print_.checksum, print_.size))
