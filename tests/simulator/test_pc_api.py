import requests

from hcp_dev.simulator.http_server import ApiServer
from hcp_dev.simulator.pc_api import pc_api


def get(server, token="t0ken", **params):
    return requests.get(f"{server.base_url}/api/evaluations", params=params,
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_requires_the_bearer_token(demo_world):
    with ApiServer(pc_api(demo_world.ratings, "t0ken")) as server:
        assert get(server, token="wrong", limit=1).status_code == 401


def test_pages_cover_every_rating_in_update_order_with_reversed_levels(demo_world):
    world_levels = {r.evaluation_id: r.level for r in demo_world.ratings}
    with ApiServer(pc_api(demo_world.ratings, "t0ken")) as server:
        items, params = [], {"limit": 500}
        while True:
            body = get(server, **params).json()
            items += body["data"]
            if not body["next_cursor"]:
                break
            params = {"limit": 500, "cursor": body["next_cursor"]}
    assert len(items) == sum(1 for r in demo_world.ratings if r.channel == "pc")
    times = [i["updateTime"] for i in items]
    assert times == sorted(times)
    # The portal's satisfaction runs 5 = 非常满意 .. 1 = 非常不满意: the reverse of the canonical level.
    assert all(i["satisfaction"] == 6 - world_levels[i["evaluationId"]] for i in items)


def test_since_is_inclusive_and_read_as_beijing_time(demo_world):
    with ApiServer(pc_api(demo_world.ratings, "t0ken")) as server:
        first = get(server, limit=5).json()["data"]
        boundary = first[2]["updateTime"]  # "yyyy-MM-dd HH:mm:ss", Beijing
        since_utc = get(server, limit=5, since=_as_utc_iso(boundary)).json()["data"]
    assert since_utc[0]["updateTime"] == boundary


def test_an_injected_429_carries_retry_after(demo_world):
    api = pc_api(demo_world.ratings, "t0ken")
    api.fail_next(429, retry_after=3)
    with ApiServer(api) as server:
        response = get(server, limit=1)
        assert response.status_code == 429 and response.headers["Retry-After"] == "3"
        assert get(server, limit=1).status_code == 200


def _as_utc_iso(beijing: str) -> str:
    from datetime import datetime, timedelta

    return (datetime.strptime(beijing, "%Y-%m-%d %H:%M:%S") - timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
