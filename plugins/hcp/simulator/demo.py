"""Every source of the demo world, running: files on disk, the hotline database, the two HTTP APIs.

``demo_sources`` yields the ``AIRFLOW_CONN_*`` values that point the pipeline
at them, exactly as production connections would.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg2

from hcp import connections
from hcp.simulator import files, hotline_db
from hcp.simulator.http_server import ApiServer
from hcp.simulator.pc_api import pc_api
from hcp.simulator.rectification_api import rectification_api
from hcp.simulator.world import World


def write_files_once(world: World, root: Path, ratings_per_day: int) -> dict[str, Path]:
    """Write the file deliveries unless this very world (seed, size, dates) is already on disk."""
    stamp = root / "world.json"
    identity = {"seed": world.seed, "ratings_per_day": ratings_per_day, "start": world.start.isoformat(),
                "end": world.end.isoformat(), "ratings": len(world.ratings)}
    roots = {name: root / name for name in ("app", "hall", "sms", "master")}
    if stamp.exists() and json.loads(stamp.read_text()) == identity:
        return roots
    root.mkdir(parents=True, exist_ok=True)
    files.write_all(world, root)
    stamp.write_text(json.dumps(identity))
    return roots


@contextmanager
def demo_sources(world: World, root: Path, ratings_per_day: int, server_kwargs: dict,
                 hotline_db_name: str = "hcp_hotline_demo") -> Iterator[dict[str, str]]:
    roots = write_files_once(world, root, ratings_per_day)
    hotline_kwargs = {**server_kwargs, "dbname": hotline_db_name}
    conn = psycopg2.connect(**hotline_kwargs)
    try:
        hotline_db.fill(conn, world)
    finally:
        conn.close()
    pc_token, events_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)  # per run, never stored
    with ExitStack() as stack:
        pc = stack.enter_context(ApiServer(pc_api(world.ratings, pc_token)))
        events = stack.enter_context(ApiServer(rectification_api(world, events_token)))
        values = {
            "hcp_pc": {"conn_type": "http", "host": pc.base_url, "password": pc_token},
            "hcp_rectification": {"conn_type": "http", "host": events.base_url, "password": events_token},
            "hcp_hotline": {"conn_type": "postgres", "host": hotline_kwargs["host"], "port": hotline_kwargs["port"],
                            "login": hotline_kwargs["user"], "password": hotline_kwargs.get("password"),
                            "schema": hotline_db_name},
            **{f"hcp_{name}": {"conn_type": "fs", "extra": {"path": str(path)}} for name, path in roots.items()},
        }
        yield {connections.env_var(conn_id): json.dumps({k: v for k, v in value.items() if v is not None})
               for conn_id, value in values.items()}
