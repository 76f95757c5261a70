"""The 政务服务网 portal's evaluation API (domain.md 3.1), served over real HTTP on 127.0.0.1.

Quirks kept as the real system has them: ``satisfaction`` runs 1 = 非常不满意 ..
5 = 非常满意 (reversed), ``pf`` = 7 marks a system default rating, times are
Beijing wall-clock strings, ``since`` is inclusive and results come ordered by
``updateTime``.
"""
from __future__ import annotations

import base64
import bisect
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from hcp.simulator.world import Rating
from hcp.timeutil import parse_iso_to_beijing

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_LIMIT = 500


def to_api_item(r: Rating) -> dict:
    return {
        "evaluationId": r.evaluation_id,
        "projectNo": r.case_no,
        "taskCode": r.item_code,
        "deptCode": r.org_code,
        "areaCode": r.area_code,
        "platformCode": r.platform_code,
        "staffNo": r.staff_no,
        "pf": 7 if r.is_default else 1,
        "satisfaction": 6 - r.level,
        "evalDetail": ",".join(r.reason_codes),
        "writingEvaluation": r.comment,
        "assessTime": r.rated_at.strftime(TIME_FORMAT),
        "updateTime": r.updated_at.strftime(TIME_FORMAT),
        "assessNumber": r.seq,
        "userProp": r.user_type,
        "userName": r.user_name,
        "userPhone": r.user_phone,
    }


class PcApi:
    """The API's data: items kept sorted by updateTime, as the real endpoint orders them."""

    def __init__(self, ratings: list[Rating], token: str):
        items = sorted((to_api_item(r) for r in ratings if r.channel == "pc"),
                       key=lambda i: (i["updateTime"], i["evaluationId"]))
        self.items = items
        self.keys = [i["updateTime"] for i in items]
        self.token = token
        self.faults: list[tuple[int, dict[str, str]]] = []  # answers to give before the next real ones
        self.requests = 0

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (429 with Retry-After, 5xx, ...)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.faults.extend([(status, headers)] * times)

    def page(self, since: str | None, cursor: str | None, limit: int) -> dict:
        if cursor:
            start = int(base64.urlsafe_b64decode(cursor.encode()).decode())
        elif since:
            start = bisect.bisect_left(self.keys, parse_iso_to_beijing(since).strftime(TIME_FORMAT))
        else:
            start = 0
        end = min(start + limit, len(self.items))
        next_cursor = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(self.items) else None
        return {"data": self.items[start:end], "next_cursor": next_cursor}


class _Handler(BaseHTTPRequestHandler):
    api: PcApi  # set on the subclass made per server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlparse(self.path)
        if url.path != "/api/evaluations":
            return self._send(404, {"error": "not found"})
        if self.headers.get("Authorization") != f"Bearer {self.api.token}":
            return self._send(401, {"error": "unauthorized"})
        self.api.requests += 1
        if self.api.faults:
            status, headers = self.api.faults.pop(0)
            return self._send(status, {"error": "injected fault"}, headers)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            limit = int(query.get("limit", "100"))
            if not 1 <= limit <= MAX_LIMIT:
                raise ValueError("limit out of range")
            body = self.api.page(query.get("since"), query.get("cursor"), limit)
        except ValueError as exc:
            return self._send(400, {"error": str(exc)})
        self._send(200, body)

    def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args) -> None:  # keep test and run output quiet
        pass


class PcApiServer:
    """Serves a ``PcApi`` on 127.0.0.1 in a background thread; use as a context manager."""

    def __init__(self, api: PcApi, port: int = 0):
        handler = type("PcHandler", (_Handler,), {"api": api})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="pc-api", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> PcApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
