"""Beijing time: every rating belongs to the Beijing calendar day of its own rating time."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def parse_iso_to_beijing(value: str) -> datetime:
    """An ISO-8601 instant as naive Beijing wall-clock time; a value without offset is taken as Beijing."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        return parsed
    return parsed.astimezone(BEIJING).replace(tzinfo=None)


def beijing_iso(wall_clock: datetime) -> str:
    """Naive Beijing wall-clock time as ISO-8601 with its +08:00 offset."""
    return wall_clock.replace(tzinfo=BEIJING).isoformat()


def end_of_night(night: date) -> datetime:
    """The last instant of night D in Beijing: rules that need "now" use this, never the wall clock."""
    return datetime.combine(night + timedelta(days=1), time.min, tzinfo=BEIJING)
