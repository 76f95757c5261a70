"""pc — the 政务服务网 portal's HTTP JSON API (domain.md 3.1), connection ``hcp_pc``.

Pages are read from the watermark (``since`` is inclusive, so the boundary row
is read again; staging keeps the latest version) and landed as they arrive.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import date, datetime

import requests

from hcp import connections, loading
from hcp.timeutil import beijing_iso

log = logging.getLogger(__name__)

SOURCE = "pc"
CONN_ID = "hcp_pc"
TABLE = "raw.pc_evaluations"
PAGE_LIMIT = 500

# raw column <- API field, in the raw table's order
FIELDS = {
    "evaluation_id": "evaluationId",
    "project_no": "projectNo",
    "task_code": "taskCode",
    "dept_code": "deptCode",
    "area_code": "areaCode",
    "platform_code": "platformCode",
    "staff_no": "staffNo",
    "pf": "pf",
    "satisfaction": "satisfaction",
    "eval_detail": "evalDetail",
    "writing_evaluation": "writingEvaluation",
    "assess_time": "assessTime",
    "update_time": "updateTime",
    "assess_number": "assessNumber",
    "user_prop": "userProp",
    "user_name": "userName",
    "user_phone": "userPhone",
}


class SourceError(RuntimeError):
    pass


class PcClient:
    """A client that rides out 429 (honouring Retry-After), 5xx and timeouts, then gives up loudly."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0, max_attempts: int = 6,
                 backoff: float = 2.0, max_backoff: float = 60.0, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get_page(self, params: dict) -> tuple[dict, int]:
        url = f"{self.base_url}/api/evaluations"
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self.session.get(url, params=params, timeout=(5.0, self.timeout))
            except (requests.ConnectionError, requests.Timeout) as exc:
                reason, wait = f"{type(exc).__name__}", self._backoff(attempt)
            else:
                if response.status_code == 200:
                    return response.json(), len(response.content)
                if response.status_code == 429 or response.status_code >= 500:
                    reason = f"HTTP {response.status_code}"
                    wait = _retry_after(response) or self._backoff(attempt)
                else:
                    raise SourceError(f"pc API answered HTTP {response.status_code} for {params}")
            if attempt == self.max_attempts:
                raise SourceError(f"pc API failed {attempt} times, last: {reason}")
            log.warning("pc API %s (attempt %d/%d); retrying in %.1fs", reason, attempt, self.max_attempts, wait)
            time.sleep(wait)
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff)

    def pages(self, since: str | None, limit: int = PAGE_LIMIT) -> Iterator[loading.Page]:
        params: dict = {"limit": limit}
        if since:
            params["since"] = since
        number = 0
        while True:
            body, size = self.get_page(params)
            number += 1
            items = body.get("data") or []
            rows = [[_text(item.get(api)) for api in FIELDS.values()] for item in items]
            watermark = max((i["updateTime"] for i in items if i.get("updateTime")), default=None)
            yield loading.Page(
                label=f"page {number}" + (f" cursor {params['cursor']}" if "cursor" in params else ""),
                rows=rows,
                bytes_read=size,
                watermark=_as_since(watermark) if watermark else None,
            )
            cursor = body.get("next_cursor")
            if not cursor:
                return
            params = {"limit": limit, "cursor": cursor}
            if since:
                params["since"] = since


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _as_since(update_time: str) -> str:
    """An item's ``updateTime`` (Beijing, no zone) as the ISO-8601 ``since`` of the next load."""
    return beijing_iso(datetime.strptime(update_time, "%Y-%m-%d %H:%M:%S"))


def load(warehouse_conn, night: date, client: PcClient) -> loading.BatchResult:
    return loading.land_batch(
        warehouse_conn,
        source=SOURCE,
        night=night,
        table=TABLE,
        columns=list(FIELDS),
        read_pages=client.pages,
        redact=lambda text: text.replace(client.token, "***") if client.token else text,
    )


def extract(warehouse_conn, night: date, conn_id: str = CONN_ID) -> loading.BatchResult:
    api = connections.get_connection(conn_id)
    return load(warehouse_conn, night, PcClient(connections.http_base_url(api), api.password or ""))
