"""fct_bad_reviews recomputed in Python from the events and the chinesecalendar library (docs/contract.md §7)."""
from datetime import date, datetime, timedelta, timezone

import chinese_calendar

from tests.conftest import NIGHT, query

BEIJING = timezone(timedelta(hours=8))
CLOSE_DAYS = {"clear": 5, "no_legal_basis": 5, "complex": 15}


def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the library has not published: Monday-Friday
        return day.weekday() < 5


def nth_workday_after(day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        n -= is_workday(day)
    return day


def workdays_between(after: date, up_to: date) -> int:
    return sum(is_workday(after + timedelta(days=i)) for i in range(1, (up_to - after).days + 1))


def orders(conn) -> dict[tuple[str, str], dict]:
    """Each order's state from the events night D knows: each event once, none after the end of D."""
    end_of_night = datetime.combine(NIGHT + timedelta(days=1), datetime.min.time(), BEIJING)
    with conn.cursor() as cur:
        cur.execute("select distinct event_id, channel, evaluation_id, order_no, event_type, event_at, category, "
                    "new_due_date from staging.stg_rectification__events")
        events = sorted(cur.fetchall(), key=lambda e: (e[5], e[0]))
    conn.commit()
    state: dict = {}
    for _event_id, channel, evaluation_id, order_no, kind, at, category, new_due in events:
        if at >= end_of_night:
            continue
        o = state.setdefault((channel, evaluation_id), {"order_no": order_no})
        day = at.astimezone(BEIJING).date()
        if kind == "verified":
            o.setdefault("verified", day)
        elif kind == "feedback":
            o.setdefault("closed", day)
        elif kind == "classified" and category:
            o["category"] = category  # events in time order: the latest wins
        elif kind == "extended" and new_due:
            o["extended"] = new_due
        elif kind == "appeal_upheld":
            o["struck_out"] = True
    return state


def test_deadlines_status_and_overdue_days_match_the_official_calendar(demo_run):
    conn = demo_run[1]
    state = orders(conn)
    with conn.cursor() as cur:
        cur.execute("""
            select channel, evaluation_id, rated_date, is_withdrawn from marts.fct_ratings where is_bad_level
        """)
        bad = cur.fetchall()
        cur.execute("""
            select channel, evaluation_id, status, verification_due_date, close_due_date, is_verified_on_time,
                   is_closed_on_time, is_overdue, overdue_working_days
            from marts.fct_bad_reviews
        """)
        got = {(r[0], r[1]): r[2:] for r in cur.fetchall()}
    conn.commit()
    assert len(got) == len(bad) > 0
    statuses = set()
    for channel, evaluation_id, rated, withdrawn in bad:
        o = state.get((channel, evaluation_id), {})
        if withdrawn or o.get("struck_out"):
            expected = ("withdrawn" if withdrawn else "struck_out", None, None, None, None, False, 0)
        else:
            status = "closed" if "closed" in o else ("open" if o else "no_order")
            category = o.get("category", "clear")
            verify_due = nth_workday_after(rated, 1)
            close_due = (o["extended"] if category == "complex" and "extended" in o
                         else nth_workday_after(rated, CLOSE_DAYS[category]))
            verified, closed = o.get("verified"), o.get("closed")
            verified_on_time = (verified is not None and verified <= verify_due) \
                if verified or verify_due <= NIGHT else None
            closed_on_time = (closed is not None and closed <= close_due) if closed or close_due <= NIGHT else None
            end = closed or NIGHT
            overdue = end > close_due if closed else close_due <= NIGHT
            expected = (status, verify_due, close_due, verified_on_time, closed_on_time, overdue,
                        workdays_between(close_due, end) if overdue else 0)
        statuses.add(expected[0])
        assert got[(channel, evaluation_id)] == expected, (channel, evaluation_id, rated, o)
    assert {"open", "closed", "struck_out"} <= statuses


DUE_SOON_WORKING_DAYS = 3  # the var due_soon_working_days
ON_THE_CLOCK = ("open", "no_order")


def test_working_days_to_due_counted_on_dim_dates(demo_run):
    """The days left count the working days after D up to and including the due date, on the calendar BI sees;
    a due date on or before D counts back, minus the working days it is overdue (docs/contract.md §7.7)."""
    conn = demo_run[1]
    workday = dict(query(conn, "select date_day, is_workday from marts.dim_dates"))

    def working_days_to(due: date) -> int:
        if due > NIGHT:
            return sum(workday[NIGHT + timedelta(days=i)] for i in range(1, (due - NIGHT).days + 1))
        return -sum(workday[due + timedelta(days=i)] for i in range(1, (NIGHT - due).days + 1))

    reviews = query(conn, """
        select bad_review_key, status, verified_at is null, verification_due_date, close_due_date, is_overdue,
               overdue_working_days, working_days_to_verification_due, working_days_to_due,
               is_verification_due_soon, is_due_soon
        from marts.fct_bad_reviews
    """)
    kinds = set()
    for key, status, unverified, verify_due, close_due, overdue, overdue_days, *got in reviews:
        if status in ON_THE_CLOCK:
            to_verify = working_days_to(verify_due) if unverified else None
            to_close = working_days_to(close_due)
            verify_soon = unverified and verify_due > NIGHT and to_verify <= DUE_SOON_WORKING_DAYS
            close_soon = not overdue and close_due > NIGHT and to_close <= DUE_SOON_WORKING_DAYS
            assert to_close == -overdue_days if overdue else to_close >= 0, key
            kinds.add("overdue" if overdue else "due soon" if close_soon else "due later")
            if verify_soon:
                kinds.add("verification due soon")
        else:
            to_verify = to_close = None
            verify_soon = close_soon = False
        assert got == [to_verify, to_close, verify_soon, close_soon], (key, status, verify_due, close_due)
    # the demo night reaches every case, so the comparison above proves each
    assert kinds == {"overdue", "due soon", "due later", "verification due soon"}


def test_the_watchlist_is_every_open_review_overdue_or_due_soon(demo_run):
    conn = demo_run[1]
    reviews = query(conn, """
        select bad_review_key, org_code, status, is_overdue, is_due_soon, is_verification_due_soon
        from marts.fct_bad_reviews
    """)
    expected = {}
    for key, org_code, status, overdue, close_soon, verify_soon in reviews:
        if close_soon or verify_soon or (overdue and status in ON_THE_CLOCK):
            expected[key] = (org_code, "已逾期" if overdue else "即将到期" if close_soon else "待核实")
    listed = query(conn, """
        select w.bad_review_key, w.org_code, w.warning, w.org_name is not null, w.as_of_night
        from marts.rectification_watchlist w
    """)
    assert {key: (org, warning) for key, org, warning, _named, _night in listed} == expected
    assert len(listed) == len(expected)
    assert {warning for _org, warning in expected.values()} == {"已逾期", "即将到期", "待核实"}
    # a supervision office reads its agency by name, and the night the list is as of
    assert all(named and night == NIGHT for _key, _org, _warning, named, night in listed)
    # a review closed late is overdue, but off the list
    [(closed_late,)] = query(conn, "select count(*) from marts.fct_bad_reviews where is_overdue and status = 'closed'")
    assert closed_late > 0
