"""The supervision system's rectification events API (docs/contract.md §6), served over real HTTP.

Every bad review gets a work order whose events arrive as the real system
sends them: some late (their eventTime days before they are served), some
twice, in any order.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from hcp.timeutil import BEIJING, parse_iso_to_beijing
from hcp_dev.simulator.http_server import PagedApi
from hcp_dev.simulator.world import World

CATEGORIES = (("clear", 0.6), ("complex", 0.25), ("no_legal_basis", 0.15))


def _iso(wall_clock: datetime) -> str:
    return wall_clock.replace(microsecond=0, tzinfo=BEIJING).isoformat()


def build_events(world: World) -> list[dict]:
    """Events for every bad review, each with ``_servedAt``: when the API first lists it (stripped when served)."""
    horizon = datetime.combine(world.end, datetime.min.time()) + timedelta(days=1, hours=2)  # the nightly run
    events: list[dict] = []
    for r in world.ratings:
        if r.level < 4 or r.is_default or r.is_deleted:
            continue
        rng = random.Random(f"{world.seed}:events:{r.channel}:{r.evaluation_id}")
        order_no = f"ZG{r.channel.upper()}{r.evaluation_id}"
        t = r.rated_at + timedelta(hours=rng.uniform(1, 20))
        timeline = [("opened", t, {})]
        if rng.random() < 0.9:
            t += timedelta(hours=rng.uniform(2, 40))
            timeline.append(("verified", t, {}))
        category = rng.choices([c for c, _ in CATEGORIES], [w for _, w in CATEGORIES])[0]
        t += timedelta(hours=rng.uniform(1, 24))
        timeline.append(("classified", t, {"category": category}))
        if category == "complex" and rng.random() < 0.3:
            t += timedelta(days=rng.uniform(3, 10))
            due = (r.rated_at + timedelta(days=rng.randint(25, 40))).date()
            timeline.append(("extended", t, {"newDueDate": due.isoformat()}))
        if rng.random() < 0.03:
            t += timedelta(days=rng.uniform(1, 5))
            timeline.append(("appeal_upheld" if rng.random() < 0.6 else "appeal_rejected", t, {}))
        if rng.random() < 0.85:
            t += timedelta(days=rng.uniform(0.5, 12 if category == "complex" else 6))
            timeline.append(("rectified", t, {}))
            t += timedelta(hours=rng.uniform(1, 48))
            timeline.append(("feedback", t, {}))
        for n, (event_type, when, extra) in enumerate(timeline, start=1):
            served = when + (timedelta(days=rng.uniform(1, 6)) if rng.random() < 0.1 else timedelta(minutes=1))
            event = {"eventId": f"{order_no}-{n:02d}", "orderNo": order_no, "channel": r.channel,
                     "evaluationId": r.evaluation_id, "eventType": event_type, "eventTime": _iso(when),
                     "orgCode": r.org_code, **extra, "_servedAt": served}
            copies = 2 if rng.random() < 0.05 else 1  # the same event more than once
            events.extend([event] * copies)
    return [e for e in events if e["_servedAt"] <= horizon]


def rectification_api(world: World, token: str) -> PagedApi:
    """Served in the order the system received them; ``since`` filters on that receipt time."""
    items = sorted(build_events(world), key=lambda e: (e["_servedAt"], e["eventId"]))
    for position, event in enumerate(items):
        event["_order"] = f"{event['_servedAt']:%Y-%m-%d %H:%M:%S}#{position:09d}"
    api = PagedApi(
        "/api/rectification/events", items,
        since_key=lambda e: e["_order"],
        parse_since=lambda since: f"{parse_iso_to_beijing(since):%Y-%m-%d %H:%M:%S}#",
        token=token,
        clock_key=lambda now: f"{now:%Y-%m-%d %H:%M:%S}#~",
    )
    api.items = [{k: v for k, v in e.items() if not k.startswith("_")} for e in api.items]
    return api
