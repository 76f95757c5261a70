"""Rectification events: late, out of order and repeated; read back LOOKBACK before the latest event."""
import json
import logging

import pytest

from hcp.http_api import SourceError
from hcp.sources import rectification
from hcp_dev.simulator.http_server import ApiServer
from hcp_dev.simulator.rectification_api import build_events, rectification_api
from tests.conftest import NIGHT, query

TOKEN = "events-token-77ab"


@pytest.fixture
def events_server(demo_world, monkeypatch):
    api = rectification_api(demo_world, TOKEN)
    with ApiServer(api) as server:
        monkeypatch.setenv("AIRFLOW_CONN_HCP_RECTIFICATION",
                           json.dumps({"conn_type": "http", "host": server.base_url, "password": TOKEN}))
        yield api, server


def test_every_event_lands_duplicates_included_then_the_lookback_is_read_again(warehouse_db, events_server,
                                                                                demo_world):
    events = build_events(demo_world)
    assert len({e["eventId"] for e in events}) < len(events)  # the simulator repeats some events
    first = rectification.extract(warehouse_db, NIGHT)
    assert first.rows_landed == len(events)
    assert query(warehouse_db, "select count(distinct event_id) from raw.rectification_events") == [
        (len({e["eventId"] for e in events}),)]
    latest = max(e["eventTime"] for e in events)
    assert first.watermark_after == latest
    second = rectification.extract(warehouse_db, NIGHT)
    assert 0 < second.rows_read < first.rows_read  # the lookback, not the whole history
    # _record keeps the event whole, including fields the raw columns do not name
    record = json.loads(query(warehouse_db, "select _record from raw.rectification_events "
                                            "where event_type = 'extended' limit 1")[0][0])
    assert "newDueDate" in record


def test_rate_limits_are_honoured_and_the_token_never_shows(warehouse_db, events_server, caplog):
    api, server = events_server
    api.fail_next(429, retry_after=1)
    api.fail_next(502)
    result = rectification.load(warehouse_db, NIGHT, rectification.client(server.base_url, TOKEN, backoff=0.01))
    assert result.status == "succeeded"
    api.fail_next(503, times=5)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError):
        rectification.load(warehouse_db, NIGHT,
                           rectification.client(server.base_url, TOKEN, backoff=0.01, max_attempts=3))
    errors = query(warehouse_db, "select error from audit.batches where status = 'failed'")
    assert errors and all(TOKEN not in e for (e,) in errors) and TOKEN not in caplog.text


def test_a_server_that_hangs_is_given_up_on(warehouse_db, events_server):
    api, server = events_server
    api.hang_next(3, times=3)
    with pytest.raises(SourceError, match="ReadTimeout"):
        rectification.load(warehouse_db, NIGHT, rectification.client(server.base_url, TOKEN, timeout=0.5,
                                                                      backoff=0.01, max_attempts=2))
