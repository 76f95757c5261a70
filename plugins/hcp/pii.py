"""The secret key behind the keyed hashes (HMAC-SHA256) that stand in for personal data in the marts.

The key is the password of the Airflow connection ``hcp_pii`` (``AIRFLOW_CONN_HCP_PII`` works). dbt never
sees it: each dbt session gets the key's HMAC pads as settings, and ``util.keyed_hash`` reads them there.
Losing or changing the key changes every hash, so keep it with the warehouse's other secrets.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

from airflow.sdk import Connection

from hcp import connections, settings

BLOCK_SIZE = 64  # SHA-256's block, in bytes


def key() -> bytes:
    return key_of(connections.get_connection(settings.PII_KEY_CONN_ID))


def key_of(conn: Connection) -> bytes:
    if not conn.password:
        raise connections.MissingConnection(
            f"Airflow connection '{settings.PII_KEY_CONN_ID}' has no password: it must hold the hashing key")
    return conn.password.encode("utf-8")


def pads(secret: bytes) -> tuple[str, str]:
    """The inner and outer HMAC pads of the key, in hex (RFC 2104)."""
    if len(secret) > BLOCK_SIZE:
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(BLOCK_SIZE, b"\0")
    return bytes(b ^ 0x36 for b in secret).hex(), bytes(b ^ 0x5C for b in secret).hex()


def session_options(secret: bytes) -> str:
    """libpq's PGOPTIONS that hand the pads to every session of a dbt run."""
    ipad, opad = pads(secret)
    return f"-c hcp.pii_ipad={ipad} -c hcp.pii_opad={opad}"


def local_key_connection(path: Path | None = None) -> str:
    """For the local demo only: a key generated once into .local (git-ignored), as a connection value."""
    path = path or settings.LOCAL_DIR / "pii_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return json.dumps({"conn_type": "generic", "password": path.read_text(encoding="utf-8").strip()})
