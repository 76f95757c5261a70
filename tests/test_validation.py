"""The committed GX suite, run on one batch where it sits in PostgreSQL."""
from datetime import date

import pytest

from hcp import loading, validation
from hcp.sources import pc


def land(conn, rows):
    def read(_):
        yield loading.Page(pc.TABLE, list(pc.FIELDS), "page 1", [[i, *row] for i, row in enumerate(rows, 1)], 100)
    return loading.land_batch(conn, source="pc", night=date(2026, 10, 31), read_pages=read)


def item(evaluation_id, satisfaction="5", dept_code="91350100M000100Y43", assess_time="2026-10-31 09:00:00",
         update_time="2026-10-31 09:05:00"):
    values = dict.fromkeys(pc.FIELDS)
    values.update(evaluation_id=evaluation_id, project_no="C1", dept_code=dept_code, pf="1",
                  satisfaction=satisfaction, assess_time=assess_time, update_time=update_time, assess_number="1")
    return list(values.values())


def test_a_clean_batch_passes_and_is_recorded(warehouse_db):
    batch = land(warehouse_db, [item("a"), item("b", satisfaction="1")])
    outcome = validation.validate_batch(warehouse_db, "pc", batch.batch_id)
    assert outcome[0]["success"] and outcome[0]["evaluated"] >= 9
    with warehouse_db.cursor() as cur:
        cur.execute("select success from audit.validations where batch_id = %s", (batch.batch_id,))
        assert cur.fetchone() == (True,)


def test_a_bad_batch_fails_naming_what_broke_and_only_its_own_rows_count(warehouse_db):
    good = land(warehouse_db, [item("a")])
    bad = land(warehouse_db, [item("b", satisfaction="6"), item("c", assess_time="2026/10/31 09:00"),
                              item("d", dept_code="91350100M000100Y44X")])
    with pytest.raises(validation.BatchValidationFailed) as failure:
        validation.validate_batch(warehouse_db, "pc", bad.batch_id)
    message = str(failure.value)
    assert "raw_pc_evaluations: expect_column_values_to_be_in_set(satisfaction): 1 rows" in message
    assert "expect_column_values_to_match_regex(assess_time): 1 rows" in message
    assert "expect_column_values_to_match_regex(dept_code): 1 rows" in message
    with warehouse_db.cursor() as cur:
        cur.execute("select success, failed from audit.validations where batch_id = %s", (bad.batch_id,))
        success, failed = cur.fetchone()
    assert success is False
    assert {f["column"] for f in failed} == {"satisfaction", "assess_time", "dept_code"}
    # the batch picked by _batch_id: the earlier good batch still passes on its own
    assert validation.validate_batch(warehouse_db, "pc", good.batch_id)[0]["success"]
    assert validation.DATA_DOCS_INDEX.exists()


def test_dbt_merges_every_rating_the_row_rules_let_through():
    """A rating within the clock skew past the end of D+1 passes the rules: dbt's cutoff must let it in the same
    night, or its batch (merged once) would leave it out of the marts for good."""
    import yaml

    from hcp import settings, timeutil

    project = yaml.safe_load((settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["vars"]["clock_skew_minutes"] * 60 == timeutil.CLOCK_SKEW.total_seconds()
