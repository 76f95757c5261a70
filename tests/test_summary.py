"""The end-of-run summary's sections on bad reviews due soon and on entities at the bottom months running, read
from marts made by hand in a fresh warehouse: as dbt builds them, as a night whose dbt failed leaves them, or as
built before a column was added."""
from datetime import date

import pytest

from hcp import summary
from tests.conftest import NIGHT

BAD_REVIEWS = """
create schema if not exists marts;
create table marts.fct_bad_reviews (
    bad_review_key text, status text, is_overdue boolean, overdue_working_days integer{flags}
);
"""

# period_grain, period_start, code, name, bottom_streak, is_bottom, rank, peer_count
PERFORMANCE = """
create schema if not exists marts;
create table marts.{table} (
    {code} text, {name}period_grain text, period_start date, bottom_streak integer, is_bottom boolean,
    rank bigint, peer_count bigint
);
"""


def execute(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args or None)
    conn.commit()


def performance_mart(conn, table, code, name, rows, columns=None):
    """A performance mart with the columns the summary reads (less those left out of columns) and the rows given
    as (code, name, grain, period start, streak, is_bottom, rank, peers)."""
    execute(conn, PERFORMANCE.format(table=table, code=code, name=f"{name} text, " if name else ""))
    for column in columns or ():
        execute(conn, f"alter table marts.{table} drop column {column}")
    for row in rows:
        values = dict(zip([code, name, "period_grain", "period_start", "bottom_streak", "is_bottom", "rank",
                           "peer_count"], row, strict=True))
        values = {k: v for k, v in values.items() if k and k not in (columns or ())}
        execute(conn, f"insert into marts.{table} ({', '.join(values)}) values ({', '.join(['%s'] * len(values))})",
                *values.values())


def section(text: str, title: str) -> list[str]:
    """The lines under the summary's heading that starts with title, up to the next blank line."""
    lines = text.splitlines()
    [start] = [i for i, line in enumerate(lines) if line.startswith(title)]
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start + 1:end]


def test_due_soon_counts_reviews_to_close_and_to_verify(warehouse_db):
    execute(warehouse_db, BAD_REVIEWS.format(flags=", is_due_soon boolean, is_verification_due_soon boolean"))
    execute(warehouse_db, """
        insert into marts.fct_bad_reviews values
            ('pc:1', 'open', false, 0, true, true),
            ('pc:2', 'open', false, 0, true, false),
            ('app:3', 'no_order', false, 0, true, false),
            ('app:4', 'open', false, 0, false, true),
            ('hall:5', 'open', true, 2, false, false),  -- overdue: no longer due soon
            ('sms:6', 'struck_out', false, 0, null, null)
    """)
    text = summary.render(warehouse_db, NIGHT, {})
    assert [line.split() for line in section(text, "超期预警 Due soon after night 2026-10-31")] == [
        ["整改即将到期", "to", "close", "3"], ["核实即将到期", "to", "verify", "2"]]


@pytest.mark.parametrize("marts", ["none", "without the flags"])
def test_due_soon_is_left_out_when_the_mart_cannot_say(warehouse_db, marts):
    if marts == "without the flags":  # a mart built before the flags were added, on a night whose dbt failed
        execute(warehouse_db, BAD_REVIEWS.format(flags=", is_due_soon boolean"))
        execute(warehouse_db, "insert into marts.fct_bad_reviews values ('pc:1', 'open', false, 0, true)")
    text = summary.render(warehouse_db, NIGHT, {})
    assert "Due soon" not in text and "The marts have not been built" in text


@pytest.mark.parametrize(("night", "month"), [
    (date(2026, 10, 31), date(2026, 10, 1)),  # the last day of its month: that month has ended
    (date(2026, 10, 30), date(2026, 9, 1)),
    (date(2026, 11, 1), date(2026, 10, 1)),
    (date(2027, 1, 1), date(2026, 12, 1)),  # across the year
    (date(2024, 2, 28), date(2024, 1, 1)),  # a leap year's February has a 29th
    (date(2024, 2, 29), date(2024, 2, 1)),
])
def test_the_month_the_bottom_is_read_from_has_ended_by_the_night(night, month):
    assert summary.last_month_ended(night) == month


def bottom_marts(conn):
    performance_mart(conn, "agency_performance", "org_code", "org_name", [
        ("A1", "某市政务服务中心", "month", "2026-10-01", 3, True, 12, 12),
        ("A2", "某县市场监管局", "month", "2026-10-01", 2, True, 11, 12),
        ("A3", "某县税务局", "month", "2026-10-01", 1, True, 11, 12),  # one month only
        ("A4", "某区人社局", "month", "2026-09-01", 4, True, 12, 12),  # the month before
        ("A5", "某区医保局", "quarter", "2026-10-01", 2, True, 12, 12),  # a quarter is no month
        ("A6", "某区公安局", "month", "2026-10-01", 0, False, 1, 12),
    ])
    performance_mart(conn, "platform_performance", "platform_code", "platform_name", [
        ("P1", "某市政务服务网", "month", "2026-10-01", 2, True, 5, 5),
    ])
    performance_mart(conn, "staff_performance", "staff_no", None, [
        ("S1", None, "month", "2026-10-01", 5, True, 3, 3),
    ])
    # built before bottom_streak was added: left out, though its row would qualify
    performance_mart(conn, "service_item_performance", "item_code", "item_name", [
        ("I1", "个体工商户登记", "month", "2026-10-01", 2, True, 9, 9),
    ], columns=["bottom_streak"])
    # region_performance not built at all


def test_the_bottom_months_running_names_each_entity_longest_first(warehouse_db):
    bottom_marts(warehouse_db)
    text = summary.render(warehouse_db, NIGHT, {})
    assert section(text, "连续末位 At the bottom two months running or more, up to 2026年10月") == [
        "  工作人员 staff  S1  连续 5 个月 5 months running, 第 3/3 名 rank 3 of 3",
        "  机构 agency  A1  某市政务服务中心  连续 3 个月 3 months running, 第 12/12 名 rank 12 of 12",
        "  机构 agency  A2  某县市场监管局  连续 2 个月 2 months running, 第 11/12 名 rank 11 of 12",
        "  平台 platform  P1  某市政务服务网  连续 2 个月 2 months running, 第 5/5 名 rank 5 of 5",
    ]
    # a night before the month's end reads the month before
    text = summary.render(warehouse_db, date(2026, 10, 30), {})
    assert section(text, "连续末位 At the bottom two months running or more, up to 2026年09月") == [
        "  机构 agency  A4  某区人社局  连续 4 个月 4 months running, 第 12/12 名 rank 12 of 12"]


def test_the_bottom_shows_ten_entities_and_counts_the_rest(warehouse_db):
    performance_mart(warehouse_db, "agency_performance", "org_code", "org_name", [
        (f"A{streak:02}", f"机构{streak}", "month", "2026-10-01", streak, True, 40, 40) for streak in range(2, 15)])
    lines = section(summary.render(warehouse_db, NIGHT, {}), "连续末位 At the bottom")
    assert [line.split()[2] for line in lines[:-1]] == [f"A{streak:02}" for streak in range(14, 4, -1)]
    assert lines[-1] == "  另有 3 个 and 3 more"


def test_the_bottom_with_nobody_there_says_none_and_without_any_mart_is_left_out(warehouse_db):
    assert "At the bottom" not in summary.render(warehouse_db, NIGHT, {})
    performance_mart(warehouse_db, "region_performance", "region_code", "region_name", [
        ("320100", "南京市", "month", "2026-10-01", 1, True, 13, 13)])
    assert section(summary.render(warehouse_db, NIGHT, {}), "连续末位 At the bottom") == ["  无 none"]
