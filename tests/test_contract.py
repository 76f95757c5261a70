"""Each source declares its contract once: the GX suites, the raw tables and the row rules follow from it."""
import json
import re
from pathlib import Path

import yaml

from hcp import expectations, rules, settings, warehouse
from hcp.sources import RAW_TABLES, SOURCES
from hcp.sources.contract import USCC_PATTERN

GX = settings.GX_ROOT / "gx"


def test_committed_suites_are_the_declared_ones():
    """A declaration changed without `python -m hcp.expectations` leaves its suite behind: this names it."""
    stale = [t.name for t in RAW_TABLES.values()
             if json.loads(expectations.suite_path(t).read_text(encoding="utf-8"))
             != expectations.suite(t, json.loads(expectations.suite_path(t).read_text(encoding="utf-8")))]
    assert stale == []
    on_disk = {p.stem for p in (GX / "expectations").glob("*.json")}
    assert on_disk == {expectations.suite_name(t) for t in RAW_TABLES.values()}


def test_every_raw_table_has_its_asset_definition_and_checkpoint():
    assets = yaml.safe_load((GX / "great_expectations.yml").read_text(encoding="utf-8"))[
        "fluent_datasources"][expectations.DATASOURCE]["assets"]
    for table in RAW_TABLES.values():
        name = expectations.suite_name(table)
        assert assets[name]["table_name"] == table.short_name and assets[name]["schema_name"] == "raw"
        assert assets[name]["batch_definitions"][expectations.BATCH_DEFINITION]["partitioner"] == {
            "column_name": "_batch_id"}
        definition = json.loads((GX / "validation_definitions" / f"{name}_batch.json").read_text(encoding="utf-8"))
        assert definition["suite"]["name"] == name and definition["data"]["asset"]["name"] == name
        suite_id = json.loads(expectations.suite_path(table).read_text(encoding="utf-8"))["id"]
        assert definition["suite"]["id"] == suite_id
        checkpoint = json.loads((GX / "checkpoints" / f"{name}_batch.json").read_text(encoding="utf-8"))
        assert [v["name"] for v in checkpoint["validation_definitions"]] == [f"{name}_batch"]


def test_a_suite_checks_what_the_row_rules_check():
    hall = SOURCES["hall"].table
    kinds = {(kind, kwargs.get("column")): kwargs for kind, kwargs in expectations.expectations(hall)}
    assert kinds[("expect_column_values_to_be_in_set", "result")]["value_set"] == list(hall.level.values)
    assert kinds[("expect_column_values_to_match_regex", "eval_time")]["regex"] == hall.time.regex
    assert kinds[("expect_column_values_to_match_regex", "dept_code")]["regex"] == USCC_PATTERN
    event_channel = [k for _, k in expectations.expectations(SOURCES["rectification"].table)
                     if k.get("column") == "channel"]
    assert event_channel[0]["value_set"] == ["pc", "app", "hall", "hotline", "sms"]


def test_the_warehouse_holds_the_declared_raw_tables(warehouse_db):
    with warehouse_db.cursor() as cur:
        cur.execute("""select table_schema || '.' || table_name, array_agg(column_name::text order by ordinal_position)
                       from information_schema.columns where table_schema = 'raw' and table_name <> 'official_calendar'
                       group by 1""")
        found = dict(cur.fetchall())
        cur.execute("select indexname from pg_indexes where schemaname = 'raw'")
        indexes = {name for (name,) in cur.fetchall()}
    assert found == {t.name: [*t.columns, "_batch_id", "_source_page", "_line_no", "_loaded_at"]
                     for t in RAW_TABLES.values()}
    assert {"pc_evaluations_batch_idx", "pc_evaluations_id_idx", "master_cases_case_no_idx"} <= indexes
    assert "master_agencies_batch_idx" not in indexes


def test_schema_is_idempotent(warehouse_db):
    warehouse.ensure_schema(warehouse_db)
    warehouse.ensure_schema(warehouse_db)
    with warehouse_db.cursor() as cur:
        cur.execute("select count(*) from pg_indexes where schemaname = 'raw' and indexname like 'master_cases%'")
        assert cur.fetchone()[0] == 2


def test_every_channel_names_its_level_case_agency_and_staging_model():
    for source in SOURCES.values():
        if source.is_channel:
            table = source.table
            assert table.case_column and table.id_column and table.time, source.name
            assert source.staging_model and (
                settings.DBT_PROJECT_DIR / "models" / "staging" / source.name / f"{source.staging_model}.sql").exists()


def test_rectification_events_look_for_their_rating_in_every_channel():
    unknown = dict(rules.row_checks(SOURCES["rectification"].table))["unknown_evaluation"]
    looked_in = re.findall(r"from (raw\.\w+) x where batch\.channel = '(\w+)' and x\.(\w+) =", unknown)
    assert looked_in == [(s.table.name, s.name, s.table.id_column) for s in SOURCES.values() if s.is_channel]


def test_generic_code_does_not_switch_on_a_source_name():
    """What differs between sources lives in their declarations, not in `if source == ...` elsewhere."""
    names = "|".join(SOURCES)
    switch = re.compile(rf"""(==|!=|\bin\b)\s*\(?\s*["']({names})["']|["']({names})["']\s*(==|!=)""")
    plugins = Path(settings.PROJECT_ROOT) / "plugins" / "hcp"
    found = [f"{p.relative_to(plugins)}:{n}" for p in plugins.rglob("*.py") if p.parent.name != "sources"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if switch.search(line)]
    assert found == []


def test_every_level_word_a_channel_declares_maps_to_a_canonical_level():
    """Levels sent as words are mapped in dbt (level_from_name): a word declared but not mapped would stage
    as no level at all."""
    mapped = dict(re.findall(r"when '([^']+)' then (\d)",
                             (settings.DBT_PROJECT_DIR / "macros" / "level_from_name.sql").read_text(encoding="utf-8")))
    for source in SOURCES.values():
        level = source.is_channel and source.table.level
        if level and not all(v.isdigit() for v in level.values):
            assert set(level.values) <= set(mapped), source.name
    assert [mapped[w] for w in SOURCES["hotline"].table.level.values] == ["2", "3", "4"]


def test_a_new_raw_table_gets_its_suite_asset_and_checkpoint(warehouse_db, tmp_path, monkeypatch):
    """What `python -m hcp.expectations` does for a new channel's table, run on a copy of our GX project; the
    checkpoint it makes then judges a batch as the night's validation does."""
    import shutil

    import great_expectations as gx

    from hcp.sources import contract

    gx_root = tmp_path / "expectations"
    shutil.copytree(GX, gx_root / "gx", ignore=shutil.ignore_patterns("uncommitted"))
    kiosk = contract.RawTable(
        "raw.kiosk_evaluations", ("rating_no", "case_no", "level", "rated_at"), id_column="rating_no",
        time=contract.TimeFormat("rated_at", r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"),
        level=contract.LevelScale("level", ("1", "2", "3", "4", "5")), case_column="case_no")
    monkeypatch.setitem(RAW_TABLES, kiosk.name, kiosk)
    with warehouse_db.cursor() as cur:
        cur.execute(warehouse.raw_table_ddl(kiosk))
        cur.execute("""insert into raw.kiosk_evaluations (rating_no, case_no, level, rated_at, _batch_id, _source_page,
                       _line_no) values ('k1', 'c1', '5', '2026-10-31 10:00:00', 7, 'f', 1),
                                        ('k2', 'c2', '9', '2026-10-31 11:00:00', 7, 'f', 2)""")
    warehouse_db.commit()

    assert expectations.write_suites(gx_root) == [kiosk.name]
    expectations.add_definitions([kiosk.name], gx_root)
    assert expectations.write_suites(gx_root) == []  # and again: nothing new

    context = gx.get_context(mode="file", project_root_dir=str(gx_root))
    result = context.checkpoints.get("raw_kiosk_evaluations_batch").run(batch_parameters={"_batch_id": 7})
    [run] = result.run_results.values()
    failed = [(r.expectation_config.type, r.expectation_config.kwargs.get("column")) for r in run.results
              if not r.success]
    assert failed == [("expect_column_values_to_be_in_set", "level")]
    assert len(run.results) == len(expectations.expectations(kiosk))
