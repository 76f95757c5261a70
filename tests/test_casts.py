"""The casts that cannot fail (plugins/hcp/sql/util.sql), on arbitrary text: none raises, and each reads exactly
what an independent parser in Python reads, on the server the suite runs (PostgreSQL 18, or 15).

Staging puts every raw value through these, quarantined or not, in whatever order the planner picks; so does
every row rule that judges a time. Their promise is checked here on text nobody chose, and the staging models
are checked to cast in no other way.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files

import psycopg2
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hcp import connections
from hcp import settings as hcp_settings

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
EPOCH = datetime(1970, 1, 1)

TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?", re.ASCII)
INSTANT = re.compile(r"(.{19}(?:\.\d{1,6})?)(Z|([+-])(0\d|1[0-4])(?::?([0-5]\d))?)?", re.ASCII | re.DOTALL)
INTEGER = re.compile(r"[ \t\r\n]*[+-]?\d{1,9}[ \t\r\n]*", re.ASCII)


def python_timestamp(value: str) -> datetime | None:
    match = TIMESTAMP.fullmatch(value)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if hour > 23 or minute > 59 or second > 59 or year < 1:
        return None
    try:
        wall = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    return wall + timedelta(seconds=float(match.group(7) or 0))


def python_instant(value: str) -> float | None:
    """Seconds since 1970 UTC (the instant may fall before year 1, which datetime cannot hold)."""
    match = INSTANT.fullmatch(value)
    if not match or (wall := python_timestamp(match.group(1))) is None:
        return None
    zone, sign, hours, minutes = match.group(2), match.group(3), match.group(4), match.group(5)
    if zone is None:
        offset = timedelta(hours=8)  # no offset: Beijing
    elif zone == "Z":
        offset = timedelta(0)
    else:
        offset = (-1 if sign == "-" else 1) * timedelta(hours=int(hours), minutes=int(minutes or 0))
    return round(seconds(wall) - offset.total_seconds(), 6)


def python_date(value: str) -> date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII) or value.startswith("0000"):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def python_integer(value: str) -> int | None:
    return int(value) if INTEGER.fullmatch(value) else None


def seconds(moment: datetime | date | None) -> float | None:
    """Seconds since 1970 (naive values as UTC): comparable beyond the years Python's datetime holds."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, datetime.min.time())
    return round((moment - EPOCH).total_seconds(), 6)


# Text with no NUL (PostgreSQL text cannot hold one; the loaders quarantine it), and text shaped like the
# values the casts read, one field at a time out of range.
any_text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40)
digits = st.integers(min_value=0, max_value=99).map(lambda n: f"{n:02d}")
near_dates = st.builds(lambda y, m, d: f"{y:04d}-{m}-{d}", st.integers(0, 9999), digits, digits)
near_times = st.builds(
    lambda day, sep, h, mi, s, frac: f"{day}{sep}{h}:{mi}:{s}{frac}",
    near_dates, st.sampled_from([" ", "T", "/", ""]), digits, digits, digits,
    st.sampled_from(["", ".5", ".123456", ".1234567", ".", ",5"]))
offsets = st.sampled_from(["", "Z", "z", "+08:00", "+0800", "+08", "-05:30", "+14:00", "+15:00", "+25:00", "+08:60",
                           "+8", " +08:00", "+08:00:00", "UTC"])
near_instants = st.builds(lambda t, o: t + o, near_times, offsets)
near_integers = st.one_of(
    st.integers(-(2**40), 2**40).map(str),
    st.builds(lambda pad, sign, n, exp: f"{pad}{sign}{n}{exp}{pad}", st.sampled_from(["", " ", "\t", "\u3000"]),
              st.sampled_from(["", "+", "-", "--"]), st.integers(0, 10**12), st.sampled_from(["", "e0", "E2", ".0"])),
    st.sampled_from(["٣", "５", "1_000", "0x10", "NaN", "Infinity", "2147483648", "-2147483649"]))
values = st.lists(st.one_of(any_text, near_dates, near_times, near_instants, near_integers), min_size=1, max_size=30)


@pytest.fixture(scope="module")
def util_db(make_database):
    conn = psycopg2.connect(**connections.postgres_kwargs(connections.parse("casts", make_database("casts"))))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute((files("hcp") / "sql" / "util.sql").read_text(encoding="utf-8"))
    yield conn
    conn.close()


def cast_all(conn, texts: list[str]) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(
            """
            select round(extract(epoch from util.to_timestamp_or_null(v))::numeric, 6)::float8,
                   round(extract(epoch from util.to_timestamptz_or_null(v))::numeric, 6)::float8,
                   round(extract(epoch from util.to_date_or_null(v))::numeric, 6)::float8,
                   util.to_integer_or_null(v)
            from unnest(%s::text[]) with ordinality as t (v, i) order by i
            """, (texts,))
        return cur.fetchall()


@FUZZ
@given(values)
@example(["2026-10-32 09:15:00", "2026-02-29 00:00:00", "2024-02-29 23:59:59.999999", "2026-12-31 23:59:60",
          "2026-10-31 24:00:00", "0000-01-01 00:00:00", "0001-01-01 00:00:00+14:00", "9999-12-31 23:59:59-14:00",
          "2026-10-31T09:15:00+08:00", "2026-10-31T01:15:00Z", "2026-10-31T09:15:00+25:00", "", " ", "+5", "5e0"])
def test_casts_never_fail_and_read_what_python_reads(util_db, texts):
    got = cast_all(util_db, texts)
    expected = [(seconds(python_timestamp(v)), python_instant(v), seconds(python_date(v)),
                 python_integer(v)) for v in texts]
    assert got == expected


def test_an_instant_without_an_offset_is_beijing_whatever_the_session_zone(util_db):
    with util_db.cursor() as cur:
        cur.execute("set timezone = 'America/New_York'")
        cur.execute("select util.to_timestamptz_or_null('2026-10-31 09:15:00')")
        assert cur.fetchone()[0] == datetime(2026, 10, 31, 1, 15, tzinfo=UTC)
        cur.execute("reset timezone")


json_codes = st.lists(st.one_of(st.integers(-999, 99999),
                                st.text(st.characters(codec="utf-8", blacklist_characters='"\\,',
                                                      blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                                        max_size=6)),
                      max_size=6)


@FUZZ
@given(json_codes, st.sampled_from(["", " ", "\n"]))
def test_reason_codes_of_a_json_array_are_its_elements(util_db, codes, pad):
    import json

    text = pad + json.dumps(codes, ensure_ascii=False) + pad
    with util_db.cursor() as cur:
        cur.execute("select util.reason_codes_from_json(%s)", (text,))
        assert cur.fetchone()[0] == [str(c) for c in codes]


@FUZZ
@given(st.one_of(any_text, st.text(alphabet='[]{}",\\ 5019:null', max_size=30)))
@example('[501,')
@example('{"a": [501]}')
@example('"501"')
def test_reason_codes_of_anything_else_never_fail_and_lose_nothing(util_db, text):
    with util_db.cursor() as cur:
        cur.execute("select util.reason_codes_from_json(%s)", (text,))
        codes = cur.fetchone()[0]
    stripped = text.strip(" \t\r\n")
    if not stripped:
        assert codes == []
    elif not stripped.startswith("["):
        assert codes == [text]  # no array: kept whole, reported as an unknown code


@FUZZ
@given(st.sampled_from([",", "|"]),
       st.lists(st.text(st.characters(blacklist_characters="\x00,| ", blacklist_categories=("Cs",)), min_size=1,
                        max_size=6), max_size=5),
       st.lists(st.sampled_from(["", " ", "  "]), min_size=12, max_size=12))
@example(",", ["501", "502", "506"], [" ", "", "", " ", "", " "] * 2)
def test_split_codes_trims_each_code_and_keeps_their_order(util_db, sep, codes, pads):
    """The row rules and staging read codes through the same function: ' 502' is 502 in both."""
    text = sep.join(pads[2 * i] + code + pads[2 * i + 1] for i, code in enumerate(codes))
    with util_db.cursor() as cur:
        cur.execute("select util.split_codes(%s, %s)", (text, sep))
        assert cur.fetchone()[0] == codes


def test_staging_casts_only_through_the_functions_that_cannot_fail():
    """A cast of raw text to any type but text is the bug these functions exist for: none in staging."""
    # a typed null (no update time: null::timestamptz) reads no value, so it cannot fail
    casts = re.compile(r"(?<!\bnull)::\s*(?!text\b)(\w+)")
    offenders = {}
    for model in (hcp_settings.DBT_PROJECT_DIR / "models" / "staging").rglob("*.sql"):
        sql = model.read_text(encoding="utf-8")
        # a timestamp the functions returned may become its date
        found = [m.group(0) for m in casts.finditer(sql) if not (m.group(1) == "date" and ")::date" in
                                                                  sql[max(0, m.start() - 1):m.end()])]
        if found:
            offenders[model.name] = found
    assert offenders == {}
