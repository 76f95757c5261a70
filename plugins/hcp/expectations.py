"""The GX suites of the raw tables, derived from what each source declares (``hcp.sources.contract``).

``python -m hcp.expectations`` writes ``expectations/gx/expectations/raw_<table>.json`` from the declarations.
A raw table new to GX also gets its table asset, its batch definition by ``_batch_id``, its validation
definition and its checkpoint; that needs the warehouse (GX reads the table), reached as the night reaches it.
A test holds the committed suites to the declarations.
"""
from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

from hcp import settings
from hcp.sources.contract import LOADER_COLUMNS, RATING_SEQUENCES, USCC_PATTERN, RawTable

MOSTLY = 0.95  # a suite fails a batch when more than 5 % of its rows break an expectation, as the batch rule does
DATASOURCE = "warehouse"
BATCH_DEFINITION = "by_batch"
_IDS = uuid.UUID("6c1f3c52-3b1e-4f4e-9d55-0d6f8f0b1a2e")  # namespace of the ids given to new expectations


def suite_name(table: RawTable) -> str:
    return f"raw_{table.short_name}"


def expectations(table: RawTable) -> list[tuple[str, dict]]:
    """(type, kwargs) of the table's suite, in the order Data Docs shows them."""
    from hcp.sources import SOURCES

    found: list[tuple[str, dict]] = [
        ("expect_table_columns_to_match_set", {"column_set": [*table.columns, *LOADER_COLUMNS]})]
    not_null = [table.id_column, table.case_column, *table.expect_not_null]
    found += [("expect_column_values_to_not_be_null", {"column": c}) for c in dict.fromkeys(not_null) if c]
    in_set = {}
    if table.level:
        in_set[table.level.column] = table.level.values
    if table.sequence_column:
        in_set[table.sequence_column] = RATING_SEQUENCES
    in_set.update(table.expect_in_set)
    found += [("expect_column_values_to_be_in_set",
               {"column": c, "value_set": list(v(SOURCES) if callable(v) else v)}) for c, v in in_set.items()]
    regex = {table.time.column: table.time.regex} if table.time else {}
    regex.update(table.expect_regex)
    if table.agency_column:
        regex[table.agency_column] = USCC_PATTERN
    found += [("expect_column_values_to_match_regex", {"column": c, "regex": r}) for c, r in regex.items()]
    return [(kind, kwargs if kind == "expect_table_columns_to_match_set" else {**kwargs, "mostly": MOSTLY})
            for kind, kwargs in found]


def suite(table: RawTable, committed: dict | None = None) -> dict:
    """The suite as GX stores it; ids are kept from the committed file, so a rewrite changes only what changed."""
    committed = committed or {}
    ids = {(e["type"], e["kwargs"].get("column")): e["id"] for e in committed.get("expectations", [])}
    name = suite_name(table)
    return {
        "expectations": [
            {"id": ids.get((kind, kwargs.get("column"))) or str(uuid.uuid5(_IDS, f"{name}:{kind}:{kwargs.get('column')}")),
             "kwargs": kwargs, "meta": {}, "severity": "critical", "type": kind}
            for kind, kwargs in expectations(table)
        ],
        "id": committed.get("id") or str(uuid.uuid5(_IDS, name)),
        "meta": {"great_expectations_version": committed.get("meta", {}).get("great_expectations_version", "1.24.1"),
                 "guards": f"{table.name}, one batch at a time; derived from its source's declaration"},
        "name": name,
        "notes": None,
    }


def suite_path(table: RawTable, gx_root: Path = settings.GX_ROOT) -> Path:
    return gx_root / "gx" / "expectations" / f"{suite_name(table)}.json"


def write_suites(gx_root: Path = settings.GX_ROOT) -> list[str]:
    """Writes every raw table's suite; returns the tables GX does not know yet (no checkpoint)."""
    from hcp.sources import RAW_TABLES

    new = []
    for table in RAW_TABLES.values():
        path = suite_path(table, gx_root)
        committed = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        path.write_text(json.dumps(suite(table, committed), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if not (gx_root / "gx" / "checkpoints" / f"{suite_name(table)}_batch.json").exists():
            new.append(table.name)
    return new


def add_definitions(table_names: list[str], gx_root: Path = settings.GX_ROOT) -> None:
    """The asset, batch definition, validation definition and checkpoint of raw tables new to GX."""
    import great_expectations as gx
    from great_expectations.core.partitioners import PartitionerColumnValue

    from hcp import connections
    from hcp.sources import RAW_TABLES
    from hcp.validation import GX_URL_VAR

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ[GX_URL_VAR] = connections.sqlalchemy_url(connections.get_connection(settings.WAREHOUSE_CONN_ID))
    context = gx.get_context(mode="file", project_root_dir=str(gx_root))
    datasource = context.data_sources.get(DATASOURCE)
    for name in table_names:
        table = RAW_TABLES[name]
        asset = datasource.add_table_asset(name=suite_name(table), table_name=table.short_name, schema_name="raw")
        # GX checks only its date partitioners; a batch is selected by the value of its id
        batches = asset.add_batch_definition(BATCH_DEFINITION, partitioner=PartitionerColumnValue(column_name="_batch_id"),
                                             validate_partitioner=False)
        definition = context.validation_definitions.add(gx.ValidationDefinition(
            name=f"{suite_name(table)}_batch", data=batches, suite=context.suites.get(suite_name(table))))
        context.checkpoints.add(gx.Checkpoint(
            name=f"{suite_name(table)}_batch", validation_definitions=[definition], result_format="SUMMARY",
            actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")]))


if __name__ == "__main__":
    new_tables = write_suites()
    if new_tables:
        add_definitions(new_tables)
    print(f"suites written under {settings.GX_ROOT / 'gx' / 'expectations'}"
          + (f"; new to GX: {', '.join(new_tables)}" if new_tables else ""), file=sys.stderr)
