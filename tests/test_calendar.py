"""The official calendar copied from the chinesecalendar library, make-up working days (调休) included."""
from datetime import date

from hcp import calendar
from tests.conftest import query


def test_the_published_years_land_with_their_make_up_days(warehouse_db):
    n = calendar.refresh(warehouse_db)
    assert query(warehouse_db, "select min(day), max(day), count(*) from raw.official_calendar") == [
        (date(2019, 12, 1), date(2026, 12, 31), n)]
    days = dict(query(warehouse_db, "select day, is_workday from raw.official_calendar where day = any(%s)",
                      [date(2026, 9, 20), date(2026, 9, 25), date(2026, 10, 1), date(2026, 10, 10),
                       date(2026, 2, 14), date(2026, 2, 16)]))
    assert days == {
        date(2026, 9, 20): True,   # a Sunday worked to make up for National Day
        date(2026, 9, 25): False,  # Mid-Autumn Festival, a Friday
        date(2026, 10, 1): False,
        date(2026, 10, 10): True,  # a Saturday worked
        date(2026, 2, 14): True,   # Spring Festival 2026: a Saturday worked
        date(2026, 2, 16): False,
    }
    assert calendar.refresh(warehouse_db) == n  # replaced, not appended
    assert query(warehouse_db, "select count(*) from raw.official_calendar") == [(n,)]
