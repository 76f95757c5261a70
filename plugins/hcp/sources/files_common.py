"""What the file sources share: the folder from the ``fs`` connection, and skipping files already taken."""
from __future__ import annotations

import logging
from pathlib import Path

from airflow.sdk import Connection

from hcp import connections

log = logging.getLogger(__name__)


def root_of(conn_id: str) -> Path:
    return folder_of(connections.get_connection(conn_id))


def folder_of(conn: Connection) -> Path:
    """The delivery folder: ``extra.path`` of an Airflow ``fs`` connection (the host, when no extra is set)."""
    path = conn.extra_dejson.get("path") or conn.host
    if not path:
        raise connections.MissingConnection(f"connection '{conn.conn_id}' has no extra.path")
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"connection '{conn.conn_id}' points at {root}, which is not a folder")
    return root


def complete_folders(root: Path, pattern: str) -> list[Path]:
    """Folders matching ``pattern`` that hold ``_SUCCESS``, oldest first; the others are still being written."""
    folders = sorted(p for p in root.glob(pattern) if p.is_dir())
    waiting = [p.name for p in folders if not (p / "_SUCCESS").exists()]
    if waiting:
        log.info("%s: waiting for _SUCCESS in %s", root, ", ".join(waiting))
    return [p for p in folders if (p / "_SUCCESS").exists()]
