"""A paged JSON API over real HTTP on 127.0.0.1, the way the portal and the supervision system serve theirs.

Items are kept sorted by their ``since`` key; ``since`` is inclusive, the
cursor is opaque, a Bearer token is required. Faults can be injected: the next
requests answer 429 with Retry-After, 5xx, or hang.
"""
from __future__ import annotations

import base64
import bisect
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import msgspec


class PagedApi:
    def __init__(self, path: str, items: list[dict], since_key: Callable[[dict], str],
                 parse_since: Callable[[str], str], token: str, default_limit: int = 100, max_limit: int = 500,
                 clock_key: Callable[[datetime], object] | None = None):
        self.path = path
        self.items = sorted(items, key=since_key)
        self.keys = [since_key(i) for i in self.items]
        self.parse_since = parse_since  # the `since` parameter as a key comparable with since_key
        self.token = token
        self.default_limit = default_limit
        self.max_limit = max_limit
        self.clock_key = clock_key  # the since key of the last item the system had at a given time
        self.visible = len(self.items)  # items past the clock are not there yet
        self.faults: list[tuple[int, dict[str, str], float]] = []
        self.requests = 0
        self.lock = threading.Lock()

    def set_clock(self, now: datetime) -> None:
        """Serve only what the real system would have had by ``now`` (Beijing wall clock)."""
        self.visible = bisect.bisect_right(self.keys, self.clock_key(now))

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (429 with Retry-After, 5xx, ...)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.faults.extend([(status, headers, 0.0)] * times)

    def hang_next(self, seconds: float, times: int = 1) -> None:
        """Hold the next requests for ``seconds`` before answering normally: a server that hangs."""
        self.faults.extend([(0, {}, seconds)] * times)

    def page(self, query: dict[str, str]) -> dict:
        limit = int(query.get("limit", self.default_limit))
        if not 1 <= limit <= self.max_limit:
            raise ValueError("limit out of range")
        cursor = query.get("cursor")
        if cursor:
            start = int(base64.urlsafe_b64decode(cursor.encode()).decode())
        elif query.get("since"):
            start = bisect.bisect_left(self.keys, self.parse_since(query["since"]))
        else:
            start = 0
        end = min(start + limit, self.visible)
        next_cursor = base64.urlsafe_b64encode(str(end).encode()).decode() if end < self.visible else None
        return {"data": self.items[start:end], "next_cursor": next_cursor}


class _Handler(BaseHTTPRequestHandler):
    api: PagedApi  # set on the subclass made per server
    protocol_version = "HTTP/1.1"  # keep-alive, as a production API serves a client that pages through it

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlparse(self.path)
        if url.path != self.api.path:
            return self._send(404, {"error": "not found"})
        if self.headers.get("Authorization") != f"Bearer {self.api.token}":
            return self._send(401, {"error": "unauthorized"})
        with self.api.lock:
            self.api.requests += 1
            fault = self.api.faults.pop(0) if self.api.faults else None
        if fault:
            status, headers, delay = fault
            time.sleep(delay)
            if status:
                return self._send(status, {"error": "injected fault"}, headers)
        try:
            body = self.api.page({k: v[-1] for k, v in parse_qs(url.query).items()})
        except ValueError as exc:
            return self._send(400, {"error": str(exc)})
        self._send(200, body)

    def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        # msgspec, not json.dumps: the simulated source shares the machine's two cores with the loader it feeds,
        # and json.dumps took a fifth of the pc extract's CPU (UTF-8 unescaped, as ensure_ascii=False writes it)
        payload = msgspec.json.encode(body)
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def log_message(self, format: str, *args) -> None:  # keep test and run output quiet
        pass


class ApiServer:
    """Serves a ``PagedApi`` on 127.0.0.1 in a background thread; use as a context manager.
    With ``ssl_context`` (a server context holding the certificate) it serves HTTPS."""

    def __init__(self, api: PagedApi, port: int = 0, ssl_context: ssl.SSLContext | None = None):
        self.api = api
        handler = type("Handler", (_Handler,), {"api": api})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.scheme = "https" if ssl_context else "http"
        if ssl_context:
            # a client that rejects the certificate fails the handshake in accept(), which the server shrugs off
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"api{api.path}", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def __enter__(self) -> ApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
