"""Personal data never reaches the marts in clear, and BI's read-only role sees the marts and nothing else."""
import hashlib
import hmac
import re

import psycopg2
import pytest

from hcp import pii
from tests.conftest import NIGHT, TEST_PII_KEY

PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_CARD = re.compile(r"(?<![0-9A-Z])\d{17}[0-9X](?![0-9A-Z])")


def mart_text_values(conn) -> dict[tuple[str, str], set[str]]:
    """Every distinct value of every column of every mart, as text."""
    values = {}
    with conn.cursor() as cur:
        cur.execute("select table_name, column_name from information_schema.columns "
                    "where table_schema = 'marts' order by 1, 2")
        for table, column in cur.fetchall():
            cur.execute(f'select distinct "{column}"::text from marts.{table} where "{column}" is not null')
            values[(table, column)] = {v for (v,) in cur.fetchall()}
    conn.commit()
    return values


def test_no_mart_holds_a_phone_an_id_card_or_a_rater_name(demo_run, demo_world):
    conn = demo_run[1]
    phones = {r.user_phone for r in demo_world.ratings}
    id_cards = {r.user_id_card for r in demo_world.ratings}
    names = {r.user_name for r in demo_world.ratings}
    with conn.cursor() as cur:  # the scan would see them: raw has them all
        cur.execute("select count(*) from raw.pc_evaluations where user_name is not null and user_phone ~ '^1'")
        assert cur.fetchone()[0] > 0
    values = mart_text_values(conn)
    assert ("fct_ratings", "rater_key") in values and values[("fct_ratings", "rater_key")]
    leaks = []
    for (table, column), found in values.items():
        for value in found:
            if (value in names or any(p in phones for p in PHONE.findall(value))
                    or any(i in id_cards for i in ID_CARD.findall(value))):
                leaks.append((table, column, value))
    assert not leaks, leaks[:10]


def test_raters_are_keyed_hashes_of_their_phone_or_id_card(demo_run, demo_world):
    conn = demo_run[1]
    key = TEST_PII_KEY.encode()
    with conn.cursor() as cur:
        cur.execute("select channel, evaluation_id, rater_key from marts.fct_ratings where channel in ('pc', 'app')")
        got = {(channel, eid): rater for channel, eid, rater in cur.fetchall()}
        # the SQL function is RFC 2104 HMAC-SHA256: a session with the pads agrees with Python's hmac
        ipad, opad = pii.pads(key)
        cur.execute("select set_config('hcp.pii_ipad', %s, false), set_config('hcp.pii_opad', %s, false)",
                    (ipad, opad))
        cur.execute("select util.keyed_hash(' 13800138000 ')")
        assert cur.fetchone()[0] == hmac.new(key, b"13800138000", hashlib.sha256).hexdigest()
    conn.rollback()
    checked = 0
    for r in demo_world.ratings:
        if (r.channel, r.evaluation_id) in got:
            value = r.user_phone if r.channel == "pc" else r.user_id_card
            assert got[(r.channel, r.evaluation_id)] == hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
            checked += 1
    assert checked > 100


def test_a_session_without_the_key_cannot_hash(demo_run):
    conn = psycopg2.connect(demo_run[1].dsn)
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.RaiseException, match="hashing key is not set"):
            cur.execute("select util.keyed_hash('13800138000')")
        conn.rollback()
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.RaiseException):  # nor once reset to ''
            cur.execute("select set_config('hcp.pii_ipad', '', false), set_config('hcp.pii_opad', '', false)")
            cur.execute("select util.keyed_hash('13800138000')")
    finally:
        conn.close()


@pytest.fixture
def bi_connection(demo_run):
    params = demo_run[1].get_dsn_parameters()
    conn = psycopg2.connect(host=params["host"], port=params["port"], dbname=params["dbname"], user="hcp_bi")
    yield conn
    conn.close()


def test_hcp_bi_reads_every_mart(bi_connection, demo_run):
    with demo_run[1].cursor() as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = 'marts'")
        marts = [t for (t,) in cur.fetchall()]
    demo_run[1].commit()
    assert {"fct_ratings", "fct_bad_reviews", "agency_performance", "dim_dates", "dim_reason_codes",
            "data_status"} <= set(marts)
    with bi_connection.cursor() as cur:
        for table in marts:
            cur.execute(f"select count(*) from marts.{table}")
            assert cur.fetchone()[0] >= 0
        # names beside codes, and the state of the data, though audit is closed to the role
        cur.execute("select reason_name from marts.dim_reason_codes where reason_code = '501'")
        assert cur.fetchall() == [("服务态度差",)]
        cur.execute("select night, status, status_zh, missing_sources from marts.data_status where is_latest")
        assert cur.fetchall() == [(NIGHT, "succeeded", "正常", [])]


@pytest.mark.parametrize("relation", [
    "raw.pc_evaluations", "audit.batches", "audit.quarantine", "audit.runs", "staging.stg_pc__evaluations",
    "intermediate.int_cases_deduplicated", "seeds.level_points",
])
def test_hcp_bi_cannot_read_outside_the_marts(bi_connection, relation):
    with bi_connection.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute(f"select 1 from {relation} limit 1")


def test_hcp_bi_cannot_write_the_marts(bi_connection):
    with bi_connection.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("create table marts.mine (x int)")
