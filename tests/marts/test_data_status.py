"""data_status, the state of the data for BI readers: built by dbt on a fresh warehouse whose audit.runs holds
runs written by hand, then read by hcp_bi as new runs are recorded after dbt."""
import csv
from datetime import date

import psycopg2
import pytest

from hcp import dbt, settings
from hcp.sources import SOURCES
from tests.conftest import query

RUNS = """
insert into audit.runs (run_id, night, status, failed_sources, started_at, ended_at, summary) values
    ('scheduled__1029', '2026-10-29', 'succeeded', '{}', '2026-10-30 02:00+08', '2026-10-30 02:31+08', ''),
    ('scheduled__1030', '2026-10-30', 'failed', '{pc}', '2026-10-31 02:00+08', '2026-10-31 02:20+08', ''),
    -- the same night again that morning, by hand: it stands for the night
    ('manual__1030', '2026-10-30', 'degraded', '{hotline,sms}', '2026-10-31 09:00+08', '2026-10-31 09:40+08', '')
"""
COLUMNS = ("night, is_latest, status, status_zh, missing_sources, missing_sources_zh, missing_sources_en, "
           "runs_of_night, nights_on_record")


def test_source_names_name_every_source_as_its_contract_does():
    with (settings.DBT_PROJECT_DIR / "seeds" / "source_names.csv").open(encoding="utf-8") as seed:
        named = {row["source"]: row["source_name_zh"] for row in csv.DictReader(seed)}
    assert named == {name: source.name_zh for name, source in SOURCES.items()}


@pytest.fixture
def bi_reader(warehouse_db):
    params = warehouse_db.get_dsn_parameters()
    conn = psycopg2.connect(host=params["host"], port=params["port"], dbname=params["dbname"], user="hcp_bi")
    yield conn
    conn.close()


def test_each_night_shows_its_latest_run_and_a_run_recorded_after_dbt_shows_at_once(warehouse_db, bi_reader):
    with warehouse_db.cursor() as cur:
        cur.execute(RUNS)
    warehouse_db.commit()
    dbt.run(["build", "--select", "source_names", "data_status"])
    assert query(bi_reader, f"select {COLUMNS} from marts.data_status") == [
        (date(2026, 10, 30), True, "degraded", "部分来源缺失", ["hotline", "sms"], "12345热线、短信",
         "12345 hotline, SMS survey replies", 2, 2),
        (date(2026, 10, 29), False, "succeeded", "正常", [], None, None, 1, 2),
    ]
    # the next night's run is recorded after its dbt: the view shows it without another build
    with warehouse_db.cursor() as cur:
        cur.execute("insert into audit.runs (run_id, night, status, failed_sources, started_at, summary) "
                    "values ('scheduled__1031', '2026-10-31', 'failed', '{master,ftp}', '2026-11-01 02:00+08', '')")
    warehouse_db.commit()
    rows = query(bi_reader, f"select {COLUMNS} from marts.data_status")
    # a source the seed does not know keeps its code
    assert rows[0] == (date(2026, 10, 31), True, "failed", "失败", ["master", "ftp"], "主数据、ftp", "Master data, ftp",
                       1, 3)
    assert [(night, latest) for night, latest, *_ in rows[1:]] == [(date(2026, 10, 30), False),
                                                                   (date(2026, 10, 29), False)]
    with bi_reader.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("select 1 from audit.runs")
