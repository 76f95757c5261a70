"""The official working-day calendar (with 调休 make-up days), from the chinesecalendar library.

dbt cannot call Python, so each night copies the library's published years into
``raw.official_calendar``; ``dim_dates`` then lays the operators' seed over it
and falls back to Monday-Friday, marked provisional, where neither reaches.
"""
from __future__ import annotations

import io
from datetime import date, timedelta
from importlib.metadata import version

import chinese_calendar

FIRST_DAY = date(2019, 12, 1)  # the rating system's start


def official_days(first: date = FIRST_DAY) -> list[tuple[date, bool, bool, str | None]]:
    """(day, is_workday, is_holiday, holiday name) for every day of every year the library has published."""
    days = []
    day = first
    while True:
        try:
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
            is_workday = chinese_calendar.is_workday(day)
        except NotImplementedError:  # a year not published yet
            return days
        days.append((day, is_workday, is_holiday and name is not None, name))
        day += timedelta(days=1)


def refresh(conn) -> int:
    """Replace raw.official_calendar with the library's days, in one transaction."""
    buffer = io.StringIO()
    days = official_days()
    library = version("chinesecalendar")
    null = r"\N"
    for day, is_workday, is_holiday, name in days:
        buffer.write(f"{day}\t{str(is_workday).lower()}\t{str(is_holiday).lower()}\t{name or null}\t{library}\n")
    buffer.seek(0)
    with conn.cursor() as cur:
        cur.execute("truncate raw.official_calendar")
        cur.copy_expert("copy raw.official_calendar (day, is_workday, is_holiday, holiday_name, library_version) "
                        "from stdin", buffer)
    conn.commit()
    return len(days)
