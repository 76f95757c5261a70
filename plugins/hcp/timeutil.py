"""Beijing time: every rating belongs to the Beijing calendar day of its own rating time."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
CLOCK_SKEW = timedelta(minutes=10)  # a device clock may run this far ahead of the end of D+1


def parse_iso_to_beijing(value: str) -> datetime:
    """An ISO-8601 instant as naive Beijing wall-clock time; a value without offset is taken as Beijing."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        return parsed
    return parsed.astimezone(BEIJING).replace(tzinfo=None)


def latest_source_time(night: date) -> datetime:
    """The latest time a source may carry for night D (docs/contract.md §2.3): the end of D+1, plus the clock
    skew; naive Beijing wall clock. Anything later is in the future."""
    return datetime.combine(night + timedelta(days=2), time.min) + CLOCK_SKEW


def watermark_candidate(value: object, fmt: str | None, latest_allowed: datetime) -> datetime | None:
    """A source's position from one item's time, as naive Beijing wall clock: None when the value is no time
    (``fmt`` given: that format, else ISO-8601) or lies after ``latest_allowed``. One malformed or future time
    must neither fail the load nor move the next load past rows it has not read."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.strptime(value, fmt) if fmt else parse_iso_to_beijing(value)
    except ValueError:
        return None
    return parsed if parsed <= latest_allowed else None


def beijing_iso(wall_clock: datetime) -> str:
    """Naive Beijing wall-clock time as ISO-8601 with its +08:00 offset."""
    return wall_clock.replace(tzinfo=BEIJING).isoformat()


def end_of_night(night: date) -> datetime:
    """The last instant of night D in Beijing: rules that need "now" use this, never the wall clock."""
    return datetime.combine(night + timedelta(days=1), time.min, tzinfo=BEIJING)
