"""A client for the paged JSON APIs (pc evaluations, rectification events): Bearer token, `since`, cursors.

It rides out 429 (honouring Retry-After), 5xx, refused or broken connections
and timeouts with backoff, then gives up loudly; anything else (401, 404, a
body that is not JSON, a certificate that does not verify) fails at once. The
token never reaches a message.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import msgspec
import requests

from hcp.failures import is_transient, is_transient_status

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
