"""Nights across September's end, up to the night that publishes it and past it (docs/contract.md §9.4).

The sources stand as they do at 02:00 after each night. September 2026 ends on a Wednesday before the
National Day holidays and their make-up working day; the night that publishes September and the third
quarter is found from the warehouse's own calendar. After that night a 12345 rating of September is withdrawn,
and a night later it comes back: the published figures stay as they were, the current ones move, and each move
of a published figure is recorded once, by the night that first computed it.
"""
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import yaml

from hcp import settings
from hcp_dev.simulator import hotline_db
from tests.conftest import mart_fingerprints, query, run_night

MONTH_END = date(2026, 9, 30)  # a Wednesday; National Day's holidays start the next day
SEPTEMBER = ("month", date(2026, 9, 1))
Q3 = ("quarter", date(2026, 7, 1))  # ends with September: published by the same night
WITHDRAWN_DAY = date(2026, 9, 15)  # the day of the 12345 rating withdrawn after September is published
# each kind of entity, its performance mart and the mart's column for the entity
KINDS = {"agency": ("agency_performance", "org_code"), "platform": ("platform_performance", "platform_code"),
         "staff": ("staff_performance", "staff_no"), "service_item": ("service_item_performance", "item_code"),
         "region": ("region_performance", "region_code")}
# published_performance's columns that say which row it is; every other column is a figure
NOT_FIGURES = {"entity_kind", "entity_code", "entity_name", "peer_group", "period_grain", "period_start",
               "period_end", "published_night"}


def publish_night(conn, period_end: date) -> date:
    """The first night on or after the Nth working day after the period ends, by the warehouse's calendar."""
    after = yaml.safe_load((settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))[
        "vars"]["publish_after_working_days"]
    [(night,)] = query(conn, """
        select min(date_day) from marts.dim_dates
         where is_workday and workday_seq = (select workday_seq from marts.dim_dates where date_day = %s) + %s
    """, period_end, after)
    return night


def figures(conn) -> list[str]:
    return [c for (c,) in query(conn, """
        select column_name from information_schema.columns
         where table_schema = 'marts' and table_name = 'published_performance' order by ordinal_position
    """) if c not in NOT_FIGURES]


def published(conn, names) -> dict[tuple, tuple]:
    """(kind, code, grain, start) -> (published_night, figures...) of every published row."""
    rows = query(conn, f"select entity_kind, entity_code, period_grain, period_start, published_night, "
                       f"{', '.join(names)} from marts.published_performance")
    return {tuple(r[:4]): tuple(r[4:]) for r in rows}


def current(conn, names) -> dict[tuple, tuple]:
    """(kind, code, grain, start) -> figures, as tonight's performance marts show them (days left out)."""
    rows = {}
    for kind, (mart, code) in KINDS.items():
        for r in query(conn, f"select {code}, period_grain, period_start, {', '.join(names)} from marts.{mart} "
                             f"where period_grain <> 'day'"):
            rows[(kind, *r[:3])] = tuple(r[3:])
    return rows


def of_periods(rows: dict, *periods) -> dict:
    return {key: value for key, value in rows.items() if key[2:] in periods}


def numeric(value):
    """A figure as the restatements hold it: numeric, is_bottom as 1 or 0."""
    return None if value is None else Decimal(int(value) if isinstance(value, bool) else value)


def restatements(conn, *where) -> list[tuple]:
    return query(conn, f"""
        select figure, published_value, current_value, published_night, first_seen_night
          from marts.performance_restatements
         where entity_kind = %s and entity_code = %s and period_grain = %s and period_start = %s
           {' and figure = %s' if len(where) > 4 else ''}
         order by first_seen_night, figure
    """, *where)


def assert_log_holds(conn, night):
    """Every figure of every published period: its latest record's current value (the published value, when
    none) is the value tonight's marts show; every record carries the value as published, by its period's
    night, and was first seen by a night run so far."""
    names = figures(conn)
    kept = published(conn, names)
    periods = {key[2:] for key in kept}
    publishing_night = {key[2:]: value[0] for key, value in kept.items()}
    now = {key: value for key, value in current(conn, names).items() if key[2:] in periods}
    latest = {}
    for kind, code, grain, start, figure, published_value, current_value, published_night, first_seen in query(
            conn, "select entity_kind, entity_code, period_grain, period_start, figure, published_value, "
                  "current_value, published_night, first_seen_night from marts.performance_restatements "
                  "order by first_seen_night"):
        key = (kind, code, grain, start)
        assert first_seen <= night and published_night == publishing_night[(grain, start)] < first_seen, key
        assert published_value == (numeric(kept[key][1 + names.index(figure)]) if key in kept else None), \
            (key, figure)
        latest[(key, figure)] = current_value
    wrong = [(key, figure)
             for key in kept.keys() | now.keys() for i, figure in enumerate(names)
             if latest.get((key, figure), numeric(kept[key][1 + i]) if key in kept else None)
             != (numeric(now[key][i]) if key in now else None)]
    assert not wrong, f"{len(wrong)} figures whose log does not hold their current value, e.g. {wrong[:5]}"


def test_published_figures_stay_and_later_differences_are_restatements(warehouse_db, night_sources, demo_world):
    conn = warehouse_db
    sources = night_sources()
    as_of, hotline_conn = sources.set_to, sources.hotline_conn
    withdrawn = next(r for r in demo_world.ratings_on("hotline", WITHDRAWN_DAY) if r.level < 4 and not r.is_deleted)
    level = f"level_{withdrawn.level}_count"  # 满意 2, 基本满意 3

    def september_published():
        return of_periods(published(conn, figures(conn)), SEPTEMBER, Q3)

    # September's last night: the month is not closed, nothing of it is published
    as_of(MONTH_END)
    run_night(conn, MONTH_END)
    assert september_published() == {}
    assert_log_holds(conn, MONTH_END)
    publish = publish_night(conn, MONTH_END)
    # 8 and 9 October, the make-up Saturday 10 October, 12 and 13 October: the holidays do not count
    assert publish == date(2026, 10, 13)

    # the night before: still not published
    as_of(publish - timedelta(days=1))
    run_night(conn, publish - timedelta(days=1))
    assert september_published() == {}
    assert_log_holds(conn, publish - timedelta(days=1))

    # the publish night: September and the third quarter of every kind of entity, as tonight's marts show them
    as_of(publish)
    run_night(conn, publish)
    names = figures(conn)
    kept = september_published()
    assert {(kind, grain) for kind, _, grain, _ in kept} == {(kind, grain) for kind in KINDS
                                                             for grain in ("month", "quarter")}
    assert {value[0] for value in kept.values()} == {publish}
    assert {key: value[1:] for key, value in kept.items()} == of_periods(current(conn, names), SEPTEMBER, Q3)
    # October and the year 2026 are not over
    assert query(conn, "select count(*) from marts.published_performance where period_end >= %s",
                 date(2026, 10, 1)) == [(0,)]
    assert query(conn, "select count(*) from marts.performance_restatements") == [(0,)]
    assert_log_holds(conn, publish)

    def as_published(kind, code, period, figure):
        return kept[(kind, code, *period)][1 + names.index(figure)]
    published_print = mart_fingerprints(conn, ["published_performance"])

    # a night later the 12345 rating of 15 September is withdrawn: one rating fewer for its agency now
    later = publish + timedelta(days=1)
    as_of(later)
    hotline_db.change(hotline_conn, withdrawn.evaluation_id, datetime.combine(later, time(9)), deleted=True)
    run_night(conn, later)
    assert mart_fingerprints(conn, ["published_performance"]) == published_print
    for period in (SEPTEMBER, Q3):
        ratings, at_level = (as_published("agency", withdrawn.org_code, period, f) for f in ("rating_count", level))
        assert query(conn, f"select rating_count, {level} from marts.agency_performance "
                           "where org_code = %s and period_grain = %s and period_start = %s",
                     withdrawn.org_code, *period) == [(ratings - 1, at_level - 1)]
        recorded = restatements(conn, "agency", withdrawn.org_code, *period)
        assert ("rating_count", ratings, ratings - 1, publish, later) in recorded
        assert (level, at_level, at_level - 1, publish, later) in recorded
        # the 12345 platform counted the rating too
        on_platform = as_published("platform", withdrawn.platform_code, period, "rating_count")
        assert restatements(conn, "platform", withdrawn.platform_code, *period, "rating_count") == [
            ("rating_count", on_platform, on_platform - 1, publish, later)]
    assert_log_holds(conn, later)

    # the same night again: nothing more is published or recorded
    printed = mart_fingerprints(conn, ["published_performance", "performance_restatements", "agency_performance"])
    as_of(later)
    hotline_db.change(hotline_conn, withdrawn.evaluation_id, datetime.combine(later, time(9)), deleted=True)
    run_night(conn, later)
    assert mart_fingerprints(conn, ["published_performance", "performance_restatements",
                                    "agency_performance"]) == printed

    # the next night the rating comes back: the figure is back at its published value, and that move is recorded
    restored = later + timedelta(days=1)
    as_of(restored)
    hotline_db.change(hotline_conn, withdrawn.evaluation_id, datetime.combine(restored, time(9)), deleted=False)
    run_night(conn, restored)
    assert mart_fingerprints(conn, ["published_performance"]) == published_print
    for period in (SEPTEMBER, Q3):
        ratings = as_published("agency", withdrawn.org_code, period, "rating_count")
        assert restatements(conn, "agency", withdrawn.org_code, *period, "rating_count") == [
            ("rating_count", ratings, ratings - 1, publish, later),
            ("rating_count", ratings, ratings, publish, restored)]
    assert_log_holds(conn, restored)
