"""The paged JSON API sources (pc evaluations, rectification events): a client with a Bearer token, `since`
and cursors, and a night's batch read through it.

It rides out 429 (honouring Retry-After), 5xx, refused or broken connections
and timeouts with backoff, then gives up loudly; anything else (401, 404, a
body that is not JSON, a certificate that does not verify) fails at once. The
token never reaches a message.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import msgspec
import requests

from hcp import connections, loading
from hcp.failures import is_transient, is_transient_status
from hcp.timeutil import latest_source_time

log = logging.getLogger(__name__)


class SourceError(RuntimeError):
    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient  # the source was down or busy: the task's retry, later, may find it back


@dataclass(frozen=True)
class ApiPage:
    number: int
    cursor: str | None  # the cursor that fetched this page
    items: list[dict]
    size: int  # bytes of the response body


CONNECT_TIMEOUT = 5.0  # seconds to reach the server, unless the connection's timeout says otherwise


class PagedClient:
    """Pages of one API path. ``session`` carries the connection's TLS, proxy and header settings
    (``hcp.connections.http_session``); its ``timeout``, when the connection sets one, replaces ``timeout``."""

    def __init__(self, base_url: str, token: str, path: str, *, session: requests.Session | None = None,
                 timeout: float = 30.0, max_attempts: int = 6, backoff: float = 2.0, max_backoff: float = 60.0,
                 page_limit: int | None = None):
        self.url = base_url.rstrip("/") + path
        self.token = token
        self.session = session if session is not None else requests.Session()
        self.timeout = getattr(self.session, "timeout", None) or (CONNECT_TIMEOUT, timeout)
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.page_limit = page_limit
        self.session.headers["Authorization"] = f"Bearer {token}"

    def redact(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text

    def get(self, params: dict) -> tuple[dict, int]:
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self.session.get(self.url, params=params, timeout=self.timeout)
            except requests.RequestException as exc:
                if not is_transient(exc):
                    raise SourceError(self.redact(f"{self.url}: {type(exc).__name__}: {exc}")) from exc
                reason, wait = type(exc).__name__, self._backoff(attempt)
            else:
                if response.status_code == 200:
                    try:
                        return _json_body(response), len(response.content)
                    except ValueError as exc:
                        raise SourceError(f"{self.url} answered HTTP 200 with a body that is not JSON for {params}"
                                          ) from exc
                if not is_transient_status(response.status_code):
                    raise SourceError(f"{self.url} answered HTTP {response.status_code} for {params}")
                reason = f"HTTP {response.status_code}"
                wait = _retry_after(response) or self._backoff(attempt)
            if attempt == self.max_attempts:
                raise SourceError(f"{self.url} failed {attempt} times, last: {reason}", transient=True)
            log.warning("%s: %s (attempt %d/%d); retrying in %.1fs", self.url, reason, attempt, self.max_attempts,
                        wait)
            time.sleep(min(wait, self.max_backoff))
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff)

    def pages(self, since: str | None) -> Iterator[ApiPage]:
        base: dict = {"since": since} if since else {}
        if self.page_limit:
            base["limit"] = self.page_limit
        params, cursor, number = dict(base), None, 0
        while True:
            body, size = self.get(params)
            number += 1
            yield ApiPage(number, cursor, list(body.get("data") or []), size)
            cursor = body.get("next_cursor")
            if not cursor:
                return
            params = {**base, "cursor": cursor}


_decode = msgspec.json.Decoder().decode


def _json_body(response: requests.Response) -> object:
    """The body as ``response.json()`` reads it, twice as fast: msgspec takes what it can, requests the rest."""
    try:
        return _decode(response.content)
    except msgspec.DecodeError:
        return response.json()


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


# (client, watermark, latest time the night accepts) -> the pages from the watermark on
ReadPages = Callable[["PagedClient", str | None, datetime], Iterator[loading.Page]]


def load(warehouse_conn, night: date, *, source: str, api: PagedClient, read_pages: ReadPages) -> loading.BatchResult:
    """One night's batch, read through ``api`` from the source's watermark."""
    latest_allowed = latest_source_time(night)
    return loading.land_batch(warehouse_conn, source=source, night=night,
                              read_pages=lambda watermark: read_pages(api, watermark, latest_allowed),
                              redact=api.redact)


def extract(warehouse_conn, night: date, *, source: str, conn_id: str, path: str, read_pages: ReadPages,
            page_limit: int | None = None) -> loading.BatchResult:
    """One night's batch from the API the connection names: its URL, token (the password) and HTTP extras."""
    conn = connections.get_connection(conn_id)
    api = PagedClient(connections.http_base_url(conn), conn.password or "", path, page_limit=page_limit,
                      session=connections.http_session(conn))
    return load(warehouse_conn, night, source=source, api=api, read_pages=read_pages)


def page_label(page: ApiPage) -> str:
    return f"page {page.number}" + (f" cursor {page.cursor}" if page.cursor else "")
