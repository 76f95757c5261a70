from datetime import date

import pytest

NIGHT = date(2026, 10, 31)


def query(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall()
    conn.commit()
    return rows


@pytest.fixture
def fs_connection(monkeypatch, tmp_path):
    """Point an ``fs`` connection at a fresh folder; returns the folder."""
    import json

    def make(conn_id: str):
        root = tmp_path / conn_id
        root.mkdir()
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "fs",
                                                                          "extra": {"path": str(root)}}))
        return root
    return make
