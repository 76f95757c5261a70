"""Every figure of the performance tables, recomputed from the facts (docs/contract.md §8), and the published
results of the demo night (§9.4).

The recomputation reads only marts.fct_ratings, marts.fct_bad_reviews, the dimensions, the regions seed and the
cases as master data lists them, once, and spells each rule out once more in Python: the entities a rating,
case or bad review counts for (a region from its area code, township to province), the four grains, the scores
against the peers, the ranks, the movement against the period before and the streak at the bottom.
"""
import math
import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from tests.conftest import NIGHT, query

TABLES = {
    # table: (kind of entity, its code column, its name column, its peer-group column)
    "agency_performance": ("agency", "org_code", "org_name", "admin_level"),
    "platform_performance": ("platform", "platform_code", "platform_name", "platform_type"),
    "staff_performance": ("staff", "staff_no", None, "org_code"),  # staff names stay out of the marts
    "service_item_performance": ("service_item", "item_code", "item_name", "case_type"),
    "region_performance": ("region", "region_code", "region_name", "region_level"),
}
GRAINS = ("day", "month", "quarter", "year")
PUBLISHED_GRAINS = ("month", "quarter", "year")
POINTS = {1: 10, 2: 8, 3: 6, 4: 3, 5: 0}  # points of levels 1-5
WEIGHTS = {"avg_points": Fraction("0.5"), "evaluation_rate": Fraction("0.2"),
           "on_time_rectification_rate": Fraction("0.2"), "on_time_verification_rate": Fraction("0.1")}
K = 20  # shrinkage toward the peer average (dbt var shrinkage_k)
BOTTOM_SHARE = Fraction(1, 10)  # the bottom tenth (dbt var bottom_share)
PUBLISH_AFTER_WORKING_DAYS = 5  # (dbt var publish_after_working_days)
TOLERANCE = Fraction(1, 10**9)
COUNTS = ("rating_count", "level_1_count", "level_2_count", "level_3_count", "level_4_count", "level_5_count",
          "default_rating_count", "cases_completed", "cases_rated", "verifications_decided",
          "verifications_on_time", "rectifications_decided", "rectifications_on_time")


def regions_of(area_code: str | None) -> list[tuple[str, str]]:
    """(level, region code) of every region an area code counts in: a 9-digit code is a township; its first six
    digits its county unless they end in 00 (a city code); the first four + 00 its city unless those four end in
    00 (a province code); the first two + 0000 its province. A code of another shape counts nowhere."""
    if area_code is None or not re.fullmatch(r"[0-9]{6}([0-9]{3})?", area_code):
        return []
    regions = [("township", area_code)] if len(area_code) == 9 else []
    county, city = area_code[:6], area_code[:4]
    if not county.endswith("00"):
        regions.append(("county", county))
    if not city.endswith("00"):
        regions.append(("city", city + "00"))
    regions.append(("province", area_code[:2] + "0000"))
    return regions


def period_of(grain: str, day: date) -> date:
    if grain == "day":
        return day
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, 1, 1)


def months_later(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


MONTHS = {"month": 1, "quarter": 3, "year": 12}


def previous_period(grain: str, start: date) -> date:
    return start - timedelta(days=1) if grain == "day" else months_later(start, -MONTHS[grain])


def period_end(grain: str, start: date) -> date:
    return start if grain == "day" else months_later(start, MONTHS[grain]) - timedelta(days=1)


@pytest.fixture(scope="module")
def facts(demo_run):
    """The facts and dimensions, read once: ratings, bad reviews, completed cases and what each entity is."""
    conn = demo_run[1]
    ratings = query(conn, """
        select rating_key, channel, case_no, org_code, platform_code, staff_no, item_code, area_code, rated_date,
               level_code, is_effective, is_default_rating, is_withdrawn, is_struck_out
        from marts.fct_ratings
    """)
    bad_reviews = query(conn, """
        select bad_review_key, org_code, platform_code, staff_no, item_code,
               verification_due_date, is_verified_on_time, close_due_date, is_closed_on_time
        from marts.fct_bad_reviews
    """)
    # a case as its latest listing describes it; completed when that listing says so
    cases = query(conn, """
        select case_no, org_code, platform_code, staff_no, item_code,
               (completed_at at time zone 'Asia/Shanghai')::date
        from (
            select distinct on (case_no) *
            from staging.stg_master__cases
            order by case_no, snapshot_date desc, batch_id desc, line_no desc
        ) as latest
        where completed_at is not null
    """)
    agencies = query(conn, "select org_code, org_name, admin_level, area_code from marts.dim_agencies")
    listed = {
        "agency": {code: (name, level) for code, name, level, _ in agencies},
        "platform": {code: (name, kind) for code, name, kind in
                     query(conn, "select platform_code, platform_name, platform_type from marts.dim_platforms")},
        "staff": {code: (None, org) for code, org in query(conn, "select staff_no, org_code from marts.dim_staff")},
        "service_item": {code: (name, kind) for code, name, kind in
                         query(conn, "select item_code, item_name, case_type from marts.dim_service_items")},
    }
    return {
        "ratings": ratings, "bad_reviews": bad_reviews, "cases": cases, "listed": listed,
        "agency_area": {code: area for code, _, _, area in agencies},
        "region_names": dict(query(conn, "select region_code, region_name from seeds.regions")),
        "calendar": dict(query(conn, "select date_day, is_workday from marts.dim_dates")),
    }


def entities_of(org_code, platform_code, staff_no, item_code, area_code) -> list[tuple[str, str]]:
    """(kind, code) of each entity a rating, case or bad review counts for: its own agency, platform, staff member
    and item, and each region its area code lies in."""
    named = [("agency", org_code), ("platform", platform_code), ("staff", staff_no), ("service_item", item_code)]
    return [(kind, code) for kind, code in named if code is not None] + [
        ("region", code) for _, code in regions_of(area_code)]


@pytest.fixture(scope="module")
def expected(facts):
    """(kind, code, grain, period start) -> every column of its performance row, as the contract defines it."""
    agency_area = facts["agency_area"]
    rows: dict = defaultdict(lambda: defaultdict(int))

    def count(entities, day, **add):
        for entity in entities:
            for grain in GRAINS:
                row = rows[(*entity, grain, period_of(grain, day))]
                for column, value in add.items():
                    row[column] += value

    # a case is rated when a latest-version rating names it that is no default, not withdrawn, not struck out
    rated_cases = {case_no for (_, _, case_no, *_, is_default, is_withdrawn, is_struck_out) in facts["ratings"]
                   if not (is_default or is_withdrawn or is_struck_out)}
    for (_, _, _, org, platform, staff, item, area, day, level, is_effective, is_default,
         _, _) in facts["ratings"]:
        if not is_effective:
            continue  # a rating that does not count gives its entities no row
        # an SMS reply has no area code: its region is its case's, its agency's area
        entities = entities_of(org, platform, staff, item, area if area is not None else agency_area.get(org))
        if is_default:
            count(entities, day, default_rating_count=1)
        else:
            count(entities, day, rating_count=1, **{f"level_{level}_count": 1}, points=POINTS[level])
    for case_no, org, platform, staff, item, day in facts["cases"]:
        count(entities_of(org, platform, staff, item, agency_area.get(org)), day,
              cases_completed=1, cases_rated=int(case_no in rated_cases))
    area_of_rating = {key: area for (key, _, _, _, _, _, _, area, *_) in facts["ratings"]}
    for (key, org, platform, staff, item, verification_due, verified_on_time, close_due,
         closed_on_time) in facts["bad_reviews"]:
        # its rating's area code; an SMS reply's is its agency's, as for the rating
        area = area_of_rating.get(key)
        entities = entities_of(org, platform, staff, item, area if area is not None else agency_area.get(org))
        # due in the period, decided (on time or not) by the night, and of those the ones on time
        if verification_due is not None:
            count(entities, verification_due, verifications_decided=int(verified_on_time is not None),
                  verifications_on_time=int(verified_on_time is True))
        if close_due is not None:
            count(entities, close_due, rectifications_decided=int(closed_on_time is not None),
                  rectifications_on_time=int(closed_on_time is True))

    # name and peer group from the dimensions; a region's level is the one at which its own code counts in
    # itself, its name from the seed
    region_levels = {code: level for (kind, code, *_) in rows if kind == "region"
                     for level, region in regions_of(code) if region == code}
    for (kind, code, *_), row in rows.items():
        if kind == "region":
            row["name"], row["peer_group"] = facts["region_names"].get(code), region_levels[code]
        else:
            row["name"], row["peer_group"] = facts["listed"][kind].get(code, (None, None))

    def share(part, whole):
        return Fraction(part, whole) if whole else None

    for row in rows.values():
        for column in COUNTS:
            row.setdefault(column, 0)  # nothing of that kind counted
        n = row["rating_count"]
        row["avg_points"] = share(row["points"], n)
        row["satisfaction_rate"] = share(row["level_1_count"] + row["level_2_count"] + row["level_3_count"], n)
        row["bad_review_rate"] = share(row["level_4_count"] + row["level_5_count"], n)
        row["evaluation_rate"] = share(row["cases_rated"], row["cases_completed"])
        row["on_time_verification_rate"] = share(row["verifications_on_time"], row["verifications_decided"])
        row["on_time_rectification_rate"] = share(row["rectifications_on_time"], row["rectifications_decided"])

    # the peer average over the ratings of the whole peer group in the period, then both scores
    group_points: dict = defaultdict(lambda: [0, 0])
    for (kind, _, grain, start), row in rows.items():
        group_points[(kind, row["peer_group"], grain, start)][0] += row["points"]
        group_points[(kind, row["peer_group"], grain, start)][1] += row["rating_count"]

    def score(row, avg_points):
        # a rate with nothing to count counts as 1
        rates = {r: 1 if row[r] is None else row[r]
                 for r in ("evaluation_rate", "on_time_rectification_rate", "on_time_verification_rate")}
        return 100 * (WEIGHTS["avg_points"] * avg_points / 10 + sum(WEIGHTS[r] * rates[r] for r in rates))

    for (kind, _, grain, start), row in rows.items():
        row["peer_avg_points"] = share(*group_points[(kind, row["peer_group"], grain, start)])
        n = row["rating_count"]
        row["performance_score"] = score(row, row["avg_points"]) if n else None
        row["adjusted_score"] = (score(row, (n * row["avg_points"] + K * row["peer_avg_points"]) / (n + K))
                                 if n else None)

    # ranks among the listed peers with a score (ties share the best rank), and the bottom of each group
    scores: dict = defaultdict(list)
    for (kind, _, grain, start), row in rows.items():
        if row["peer_group"] is not None and row["adjusted_score"] is not None:
            scores[(kind, row["peer_group"], grain, start)].append(row["adjusted_score"])
    for (kind, _, grain, start), row in rows.items():
        peers = scores[(kind, row["peer_group"], grain, start)]
        ranked = row["peer_group"] is not None and row["adjusted_score"] is not None
        row["rank"] = 1 + sum(s > row["adjusted_score"] for s in peers) if ranked else None
        row["peer_count"] = len(peers) if row["peer_group"] is not None else None
        row["is_bottom"] = (ranked and row["peer_count"] >= 2
                            and row["rank"] > row["peer_count"] - math.ceil(BOTTOM_SHARE * row["peer_count"]))

    # against the same entity's row of the period just before, and the run of bottom periods up to this one
    for (kind, code, grain, start), row in rows.items():
        before = rows.get((kind, code, grain, previous_period(grain, start)))
        row["previous_adjusted_score"] = before["adjusted_score"] if before else None
        row["previous_rank"] = before["rank"] if before else None
        row["score_change"] = (row["adjusted_score"] - before["adjusted_score"]
                               if before and None not in (row["adjusted_score"], before["adjusted_score"]) else None)
        row["rank_change"] = (before["rank"] - row["rank"]
                              if before and None not in (row["rank"], before["rank"]) else None)
        streak, period = 0, start
        while (kind, code, grain, period) in rows and rows[(kind, code, grain, period)]["is_bottom"]:
            streak, period = streak + 1, previous_period(grain, period)
        row["bottom_streak"] = streak
    for row in rows.values():
        del row["points"]
    return rows


def same(expected, actual) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, Fraction):
        return abs(Fraction(Decimal(actual)) - expected) < TOLERANCE
    return type(expected) is type(actual) and expected == actual


def mart_rows(conn, table: str) -> tuple[list[str], list[dict]]:
    with conn.cursor() as cur:
        cur.execute(f"select * from marts.{table}")
        names = [d.name for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    conn.commit()
    return names, rows


def as_mart_row(row: dict, name_column: str | None, peer_column: str) -> dict:
    """An expected row under the mart's column names (staff have no name column)."""
    renamed = {column: value for column, value in row.items() if column not in ("name", "peer_group")}
    if name_column:
        renamed[name_column] = row["name"]
    return {**renamed, peer_column: row["peer_group"]}


@pytest.mark.parametrize("table", TABLES)
def test_every_performance_figure_recomputes_from_the_facts(demo_run, expected, table):
    kind, code_column, name_column, peer_column = TABLES[table]
    columns, rows = mart_rows(demo_run[1], table)
    actual = {(r[code_column], r["period_grain"], r["period_start"]): r for r in rows}
    wanted = {(code, grain, start): as_mart_row(row, name_column, peer_column)
              for (k, code, grain, start), row in expected.items() if k == kind}
    assert len(actual) == len(rows)
    assert set(actual) == set(wanted), (sorted(set(wanted) - set(actual))[:5], sorted(set(actual) - set(wanted))[:5])
    # every column of the mart is recomputed
    assert set(columns) == {code_column, "period_grain", "period_start", *next(iter(wanted.values()))}

    mismatches = [(key, column, value, actual[key][column])
                  for key, row in wanted.items() for column, value in row.items()
                  if not same(value, actual[key][column])]
    assert not mismatches, mismatches[:10]

    # the demo world reaches what the rules above are about
    assert {grain for _, grain, _ in wanted} == set(GRAINS)
    ranked = [r for r in wanted.values() if r["rank"] is not None]
    assert ranked and any(r["previous_rank"] is not None for r in ranked)
    if table != "platform_performance":  # the demo world has one platform of each type
        assert any(r["rank"] > 1 for r in ranked)
        assert any(r["is_bottom"] for r in ranked)
    if table in ("agency_performance", "staff_performance"):
        assert any(r["bottom_streak"] >= 2 for (_, grain, _), r in wanted.items() if grain == "month")
    if table == "region_performance":
        assert {r["region_level"] for r in wanted.values()} >= {"county", "city", "province"}
        assert any(r["region_name"] is None for r in wanted.values())  # a region the seed does not list
        assert any(r["region_name"] for r in wanted.values())


def publish_day(calendar: dict[date, bool], end: date) -> date | None:
    """The Nth working day after the period's last day; None beyond the calendar."""
    day, working_days = end, 0
    while working_days < PUBLISH_AFTER_WORKING_DAYS:
        day += timedelta(days=1)
        if day not in calendar:
            return None
        working_days += calendar[day]
    return day


def test_the_demo_night_publishes_every_period_due_by_then_as_computed(demo_run, facts):
    conn = demo_run[1]
    current = {}
    for table, (kind, code_column, name_column, peer_column) in TABLES.items():
        for row in mart_rows(conn, table)[1]:
            if row["period_grain"] in PUBLISHED_GRAINS:
                code, name, peer = row.pop(code_column), row.pop(name_column, None), row.pop(peer_column)
                current[(kind, code, row["period_grain"], row["period_start"])] = {
                    "entity_name": name, "peer_group": peer, **row}
    periods = {(grain, start) for _, _, grain, start in current}
    due = {(grain, start) for grain, start in periods
           if (day := publish_day(facts["calendar"], period_end(grain, start))) is not None and day <= NIGHT}
    assert due and periods - due  # some periods closed and published, some still open (October, 2026)

    published = {}
    for row in mart_rows(conn, "published_performance")[1]:
        key = (row.pop("entity_kind"), row.pop("entity_code"), row["period_grain"], row["period_start"])
        assert row.pop("published_night") == NIGHT, key
        assert row.pop("period_end") == period_end(row["period_grain"], row["period_start"]), key
        assert key not in published
        published[key] = row
    assert {(grain, start) for _, _, grain, start in published} == due
    # fresh warehouse: what the night published is what it computed, for every kind of entity
    of_due = {key: row for key, row in current.items() if key[2:] in due}
    assert {kind for kind, *_ in published} == {kind for kind, *_ in TABLES.values()}
    assert set(published) == set(of_due)
    assert {column for row in published.values() for column in row} == {
        column for row in of_due.values() for column in row}
    differ = [(key, column, value, of_due[key][column]) for key, row in published.items()
              for column, value in row.items() if value != of_due[key][column]]
    assert not differ, differ[:10]
    assert query(conn, "select count(*) from marts.performance_restatements") == [(0,)]
