"""Every source of the demo world, running: files on disk, the hotline database, the two HTTP APIs.

``demo_sources`` yields the ``AIRFLOW_CONN_*`` values that point the pipeline
at them, exactly as production connections would.
"""
from __future__ import annotations

import json
import secrets
import shutil
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path

import psycopg2

from hcp import connections
from hcp_dev.simulator import deliveries, hotline_db
from hcp_dev.simulator.http_server import ApiServer
from hcp_dev.simulator.pc_api import pc_api
from hcp_dev.simulator.rectification_api import rectification_api
from hcp_dev.simulator.world import World


def write_files_once(world: World, root: Path, ratings_per_day: int) -> dict[str, Path]:
    """Write the file deliveries unless this very world (seed, size, dates, bad reviews) is already on disk."""
    stamp = root / "world.json"
    identity = {"seed": world.seed, "ratings_per_day": ratings_per_day, "start": world.start.isoformat(),
                "end": world.end.isoformat(), "ratings": len(world.ratings), "relistings": len(world.relistings),
                "bad_review_scale": world.bad_review_scale}
    roots = {name: root / name for name in ("app", "hall", "sms", "master")}
    if stamp.exists() and json.loads(stamp.read_text()) == identity:
        return roots
    root.mkdir(parents=True, exist_ok=True)
    deliveries.write_all(world, root)
    stamp.write_text(json.dumps(identity))
    return roots


@contextmanager
def demo_sources(world: World, root: Path, ratings_per_day: int, server_kwargs: dict,
                 hotline_db_name: str = "hcp_hotline_demo", *, ssl_context: ssl.SSLContext | None = None,
                 http_extra: dict | None = None) -> Iterator[dict[str, str]]:
    """``server_kwargs``: psycopg2's, of the server the hotline database goes on (its libpq options, TLS say,
    become the hotline connection's extras). ``ssl_context``: the APIs serve HTTPS with it; ``http_extra``:
    the extras of their connections (``{"verify": "<ca.pem>"}`` for a private CA)."""
    roots = write_files_once(world, root, ratings_per_day)
    hotline_kwargs = {**server_kwargs, "dbname": hotline_db_name}
    conn = psycopg2.connect(**hotline_kwargs)
    try:
        hotline_db.fill(conn, world)
    finally:
        conn.close()
    with _apis(world, ssl_context) as (pc, events):
        yield _connection_values(pc, events, hotline_kwargs, roots, http_extra)


@contextmanager
def daily_sources(world: World, root: Path, server_kwargs: dict,
                  hotline_db_name: str) -> Iterator[tuple[dict[str, str], Callable[[date], None]]]:
    """Every source of the world with nothing delivered yet, and ``deliver(night)``: that night's files, and
    the APIs and the hotline table as they stand when night D's run starts (02:00 on D+1)."""
    shutil.rmtree(root, ignore_errors=True)
    roots = {name: root / name for name in ("app", "hall", "sms", "master")}
    for folder in roots.values():
        folder.mkdir(parents=True)
    hotline_kwargs = {**server_kwargs, "dbname": hotline_db_name}
    conn = psycopg2.connect(**hotline_kwargs)
    try:
        with _apis(world) as (pc, events):

            def deliver(night: date) -> None:
                run_starts = datetime.combine(night + timedelta(days=1), time(2))
                pc.api.set_clock(run_starts)
                events.api.set_clock(run_starts)
                hotline_db.fill(conn, world, until=run_starts)
                deliveries.write_app_day(world, roots["app"], night)
                deliveries.write_hall_day(world, roots["hall"], night)
                deliveries.write_sms_day(world, roots["sms"], night)
                deliveries.write_master_day(world, roots["master"], night)

            yield _connection_values(pc, events, hotline_kwargs, roots), deliver
    finally:
        conn.close()


@contextmanager
def _apis(world: World, ssl_context: ssl.SSLContext | None = None) -> Iterator[tuple[ApiServer, ApiServer]]:
    pc_token, events_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)  # per run, never stored
    with ApiServer(pc_api(world.ratings, pc_token), ssl_context=ssl_context) as pc, \
            ApiServer(rectification_api(world, events_token), ssl_context=ssl_context) as events:
        yield pc, events


def _connection_values(pc: ApiServer, events: ApiServer, hotline_kwargs: dict,
                       roots: dict[str, Path], http_extra: dict | None = None) -> dict[str, str]:
    """The ``AIRFLOW_CONN_*`` values of every source, as production connections would be written."""
    values = {
        "hcp_pc": {"conn_type": "http", "host": pc.base_url, "password": pc.api.token, "extra": http_extra},
        "hcp_rectification": {"conn_type": "http", "host": events.base_url, "password": events.api.token,
                              "extra": http_extra},
        "hcp_hotline": {"conn_type": "postgres", "host": hotline_kwargs["host"], "port": hotline_kwargs["port"],
                        "login": hotline_kwargs["user"], "password": hotline_kwargs.get("password"),
                        "schema": hotline_kwargs["dbname"],
                        "extra": connections.libpq_options(hotline_kwargs) or None},
        **{f"hcp_{name}": {"conn_type": "fs", "extra": {"path": str(path)}} for name, path in roots.items()},
    }
    return {connections.env_var(conn_id): json.dumps({k: v for k, v in value.items() if v is not None})
            for conn_id, value in values.items()}
