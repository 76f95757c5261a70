"""The few calls of Superset's REST API the dashboard needs: log in, import the bundle, read a chart's data, run a
query in SQL Lab. Any Superset 6.x on a URL; nothing here starts one."""
from __future__ import annotations

import json
import time

import requests


class SupersetError(RuntimeError):
    pass


class Superset:
    def __init__(self, base_url: str, username: str, password: str, timeout: float = 120):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        # writes need the CSRF token of the same session, and a Referer from the same site
        self.session.headers["Referer"] = self.base_url
        token = self._json("post", "/api/v1/security/login",
                           json={"username": username, "password": password, "provider": "db", "refresh": True})
        self.session.headers["Authorization"] = f"Bearer {token['access_token']}"
        self.session.headers["X-CSRFToken"] = self._json("get", "/api/v1/security/csrf_token/")["result"]

    def _json(self, method: str, path: str, **kwargs) -> dict:
        response = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise SupersetError(f"{method.upper()} {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def import_assets(self, bundle: bytes, passwords: dict[str, str]) -> None:
        """Every object of the bundle created or overwritten, matched by its uuid: applying it again changes
        nothing. passwords: the bundle's database file -> its password (the bundle holds none)."""
        self._json("post", "/api/v1/assets/import/", files={"bundle": ("bundle.zip", bundle, "application/zip")},
                   data={"passwords": json.dumps(passwords)})

    def dashboard(self, slug: str) -> dict:
        return self._json("get", f"/api/v1/dashboard/{slug}")["result"]

    def dashboard_charts(self, slug: str) -> list[dict]:
        return self._json("get", f"/api/v1/dashboard/{slug}/charts")["result"]

    def chart_data(self, chart_id: int) -> list[dict]:
        """The chart's saved query, run now: one result per query, each with its rows in "data"."""
        return self._json("get", f"/api/v1/chart/{chart_id}/data/")["result"]

    def database_id(self, name: str) -> int:
        found = self._json("get", "/api/v1/database/", params={"q": json.dumps(
            {"filters": [{"col": "database_name", "opr": "eq", "value": name}]})})["result"]
        if not found:
            raise SupersetError(f"no database named {name}")
        return found[0]["id"]

    def sql(self, database_id: int, sql: str) -> dict:
        """A query in SQL Lab, run synchronously on the database's own connection."""
        return self._json("post", "/api/v1/sqllab/execute/",
                          json={"database_id": database_id, "sql": sql, "runAsync": False, "schema": "marts"})


def wait_until_healthy(base_url: str, seconds: float = 180, alive=lambda: True, log=None) -> None:
    """Returns once Superset answers /health; fails at once if the server process (alive) has ended."""
    deadline = time.monotonic() + seconds
    where = f": see {log}" if log else ""
    while True:
        try:
            if requests.get(f"{base_url.rstrip('/')}/health", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        if not alive():
            raise SupersetError(f"Superset on {base_url} exited before it answered{where}")
        if time.monotonic() > deadline:
            raise SupersetError(f"Superset on {base_url} did not answer /health within {seconds:.0f}s{where}")
        time.sleep(0.5)
