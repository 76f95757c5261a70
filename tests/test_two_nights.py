"""Two nights with sources that change in between give the marts of one night on the final state.

Between the nights the 12345 table corrects a row (a later modified_time) and withdraws another, a hall file
is delivered again under its name with a corrected row, the portal sends a rating again with a later
updateTime, and an SMS reply is sent again in the next day's file. A second warehouse then runs the last
night alone on the sources as they stand: every mart must match.
"""
from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest

from hcp import connections, warehouse
from hcp_dev.simulator import deliveries as sim
from hcp_dev.simulator import hotline_db
from hcp_dev.simulator.http_server import PagedApi
from hcp_dev.simulator.pc_api import TIME_FORMAT, pc_api, to_api_item
from tests.conftest import NIGHT, mart_fingerprints, query, run_night

FIRST = NIGHT - timedelta(days=1)
EARLIER = NIGHT - timedelta(days=10)  # the day whose ratings change: long before either night


@pytest.fixture
def sources(demo_world, night_sources):
    """set_to(night) -> the ids changed for the last night: the sources as they stand at 02:00 on D+1, and
    between the nights, the changes."""
    resent = next(r for r in demo_world.ratings_on("pc", EARLIER) if r.level < 4 and r.seq == 1)
    resent_item = {**to_api_item(resent), "satisfaction": 1,  # 非常不满意 now: a bad review
                   "updateTime": datetime.combine(NIGHT, time(10)).strftime(TIME_FORMAT)}
    pc = pc_api(demo_world.ratings, "t")
    served = night_sources(PagedApi(pc.path, [*pc.items, resent_item],
                                    since_key=lambda i: (i["updateTime"], i["evaluationId"]),
                                    parse_since=pc.parse_since, token="t", clock_key=pc.clock_key))

    def set_to(night) -> dict[str, str]:
        roots = served.set_to(night)
        if night == FIRST:
            return {}
        # between the nights: the 12345 table changes two rows, a hall file comes again corrected, an SMS
        # reply is sent again in the next day's file
        corrected, withdrawn = [r for r in demo_world.ratings_on("hotline", EARLIER) if not r.is_deleted][:2]
        hotline_db.change(served.hotline_conn, corrected.evaluation_id, datetime.combine(NIGHT, time(9)),
                          satisfaction="不满意")
        hotline_db.change(served.hotline_conn, withdrawn.evaluation_id, datetime.combine(NIGHT, time(9, 5)),
                          deleted=True)
        hall = next(r for r in demo_world.ratings_on("hall", EARLIER) if r.level < 4)
        sim.write_hall_file(roots["hall"] / f"hall_{EARLIER:%Y%m%d}_{hall.hall_code}.csv",
                            [sim.hall_row(replace(r, level=5) if r == hall else r)
                             for r in demo_world.ratings_on("hall", EARLIER) if r.hall_code == hall.hall_code])
        reply = (roots["sms"] / f"sms_{FIRST:%Y%m%d}.csv").read_text(encoding="utf-8").splitlines()[1]
        with (roots["sms"] / f"sms_{NIGHT:%Y%m%d}.csv").open("a", encoding="utf-8") as last_file:
            last_file.write(reply + "\n")
        return {"pc": resent.evaluation_id, "hotline_corrected": corrected.evaluation_id,
                "hotline_withdrawn": withdrawn.evaluation_id, "hall": hall.evaluation_id,
                "sms": reply.split(",")[0]}
    return set_to


def test_two_nights_on_changing_sources_equal_one_night_on_the_final_state(warehouse_db, make_database, sources,
                                                                            monkeypatch):
    sources(FIRST)
    run_night(warehouse_db, FIRST)
    changed = sources(NIGHT)
    run_night(warehouse_db, NIGHT)
    two_nights = mart_fingerprints(warehouse_db)
    # what was published keeps the night that published it: the first night here, the last one below
    two_nights_published = two_nights.pop("published_performance")
    # each change reached the marts, and the reply sent twice is one rating
    facts = {(channel, evaluation_id): (level, withdrawn) for channel, evaluation_id, level, withdrawn in query(
        warehouse_db, "select channel, evaluation_id, level_code, is_withdrawn from marts.fct_ratings")}
    assert facts[("pc", changed["pc"])] == (5, False)
    assert facts[("hotline", changed["hotline_corrected"])] == (4, False)
    assert facts[("hotline", changed["hotline_withdrawn"])][1] is True
    assert facts[("hall", changed["hall"])] == (5, False)
    assert ("sms", changed["sms"]) in facts
    assert query(warehouse_db, "select count(*) from audit.quarantine where reason = 'conflicting_duplicate'") == [(0,)]

    monkeypatch.setenv(connections.env_var("hcp_warehouse"), make_database("wh_final_state_once"))
    once = warehouse.connect()
    warehouse.ensure_schema(once)
    run_night(once, NIGHT)
    once_prints = mart_fingerprints(once)
    assert once_prints.pop("published_performance")[0] == two_nights_published[0] > 0
    assert once_prints == two_nights
    assert published_figures(once) == published_figures(warehouse_db)
    assert query(warehouse_db, "select distinct published_night from marts.published_performance") == [(FIRST,)]
    assert query(once, "select distinct published_night from marts.published_performance") == [(NIGHT,)]
    once.close()


def published_figures(conn) -> list[tuple]:
    """The published rows without the night that published them."""
    return query(conn, "select md5(string_agg(row_text, '|' order by row_text)) from ("
                       "select (to_jsonb(p) - 'published_night')::text as row_text "
                       "from marts.published_performance p) as rows")
