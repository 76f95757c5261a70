"""The pc loader against the simulator's real HTTP server and a real warehouse."""
import json
import logging
from datetime import date

import pytest

from hcp.http_api import SourceError
from hcp.sources import pc
from hcp_dev.simulator.http_server import ApiServer
from hcp_dev.simulator.pc_api import pc_api

NIGHT = date(2026, 10, 31)
TOKEN = "pc-secret-token-4f1c"


@pytest.fixture
def pc_server(demo_world, monkeypatch):
    api = pc_api(demo_world.ratings, TOKEN)
    with ApiServer(api) as server:
        monkeypatch.setenv("AIRFLOW_CONN_HCP_PC", json.dumps({"conn_type": "http", "host": server.base_url,
                                                              "password": TOKEN}))
        yield api, server


@pytest.fixture(scope="module")
def pc_ratings(demo_world):
    return [r for r in demo_world.ratings if r.channel == "pc"]


def count(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


def test_first_load_lands_every_item_and_sets_the_watermark(warehouse_db, pc_server, pc_ratings):
    result = pc.extract(warehouse_db, NIGHT)
    n = len(pc_ratings)
    assert (result.status, result.rows_read, result.rows_landed) == ("succeeded", n, n)
    assert count(warehouse_db, "select count(*) from raw.pc_evaluations where _batch_id = %s", result.batch_id) == n
    latest = max(r.updated_at for r in pc_ratings)
    assert result.watermark_after == latest.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    assert count(warehouse_db, "select value from audit.watermarks where source = 'pc'") == result.watermark_after
    # lineage: every row knows its page and its line within it
    assert count(warehouse_db, "select count(*) from raw.pc_evaluations where _source_page like 'page %%' "
                               "and _line_no between 1 and 500") == n


def test_resumed_load_reads_only_from_the_watermark(warehouse_db, pc_server, pc_ratings):
    first = pc.extract(warehouse_db, NIGHT)
    second = pc.extract(warehouse_db, NIGHT)
    boundary = sum(1 for r in pc_ratings if r.updated_at == max(x.updated_at for x in pc_ratings))
    # `since` is inclusive: the boundary rows come again, and staging keeps one version of each
    assert second.rows_read == boundary
    assert second.watermark_before == first.watermark_after == second.watermark_after


def test_429_and_5xx_are_ridden_out(warehouse_db, pc_server, pc_ratings):
    api, server = pc_server
    api.fail_next(429, retry_after=1)
    api.fail_next(503, times=2)
    client = pc.client(server.base_url, TOKEN, backoff=0.05)
    result = pc.load(warehouse_db, NIGHT, client)
    assert result.rows_read == len(pc_ratings)


def test_a_source_that_stays_down_fails_the_batch_keeps_the_watermark_and_hides_the_token(
        warehouse_db, pc_server, caplog):
    api, server = pc_server
    first = pc.extract(warehouse_db, NIGHT)
    api.fail_next(500, times=10)
    client = pc.client(server.base_url, TOKEN, backoff=0.01, max_attempts=3)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError, match="HTTP 500"):
        pc.load(warehouse_db, NIGHT, client)
    with warehouse_db.cursor() as cur:
        cur.execute("select status, error from audit.batches order by batch_id desc limit 1")
        status, error = cur.fetchone()
        cur.execute("select value from audit.watermarks where source = 'pc'")
        assert cur.fetchone()[0] == first.watermark_after
    assert status == "failed" and "HTTP 500" in error
    assert TOKEN not in error and TOKEN not in caplog.text


def test_a_server_that_hangs_times_out(warehouse_db):
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts connections, never answers
    port = listener.getsockname()[1]
    try:
        client = pc.client(f"http://127.0.0.1:{port}", TOKEN, timeout=0.5, backoff=0.01, max_attempts=2)
        with pytest.raises(SourceError, match="ReadTimeout"):
            pc.load(warehouse_db, NIGHT, client)
    finally:
        threading.Thread(target=listener.close).start()
