"""Great Expectations checks on a landed batch, run where it sits in PostgreSQL.

The GX file context in ``expectations/gx`` is committed: one suite per raw
table (``raw_<table>``), its validation definition and checkpoint (``_batch``). Each batch is
picked by its ``_batch_id`` through a column-value batch definition, so GX
queries only that batch's rows. Results go to ``audit.validations`` and to
the Data Docs site.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from hcp import connections, settings

log = logging.getLogger(__name__)

GX_URL_VAR = "HCP_GX_WAREHOUSE_URL"  # substituted into great_expectations.yml; never written to disk
DATA_DOCS_INDEX = settings.GX_ROOT / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"

DDL = """
create table if not exists audit.validations (
    batch_id        bigint not null references audit.batches (batch_id),
    suite           text not null,
    success         boolean not null,
    evaluated       integer not null,
    failed          jsonb not null,
    validated_at    timestamptz not null default clock_timestamp(),
    primary key (batch_id, suite)
)
"""


class BatchValidationFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class ValidationOutcome:
    batch_id: int
    suite: str
    success: bool
    evaluated: int
    failed: list[dict]  # one entry per failed expectation: type, column, unexpected count and sample


def validate_batch(warehouse_conn, source: str, batch_id: int, gx_root: Path = settings.GX_ROOT) -> list[dict]:
    """Run the checkpoint of each of the source's raw tables on one batch; record it; raise when it fails."""
    from hcp.sources import SOURCES

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ[GX_URL_VAR] = connections.sqlalchemy_url(connections.get_connection(settings.WAREHOUSE_CONN_ID))
    import great_expectations as gx  # heavy import: only in the task that validates

    context = gx.get_context(mode="file", project_root_dir=str(gx_root))
    outcomes = []
    for table in SOURCES[source].raw_tables:
        suite = f"raw_{table.split('.')[-1]}"
        # GX finds no batch in a table this batch left empty (a quiet night, a snapshot of one file):
        # that suite is recorded as passed on nothing.
        if not _has_rows(warehouse_conn, table, batch_id):
            outcomes.append(ValidationOutcome(batch_id, suite, True, 0, []))
            continue
        result = context.checkpoints.get(f"{suite}_batch").run(batch_parameters={"_batch_id": batch_id})
        outcomes += [
            ValidationOutcome(batch_id, run.suite_name, bool(run.success), len(run.results),
                              [_failure(r) for r in run.results if not r.success])
            for run in result.run_results.values()
        ]
    with warehouse_conn.cursor() as cur:
        cur.execute(DDL)
        for outcome in outcomes:
            cur.execute(
                """
                insert into audit.validations (batch_id, suite, success, evaluated, failed)
                values (%s, %s, %s, %s, %s)
                on conflict (batch_id, suite) do update
                   set success = excluded.success, evaluated = excluded.evaluated,
                       failed = excluded.failed, validated_at = clock_timestamp()
                """,
                (batch_id, outcome.suite, outcome.success, outcome.evaluated, json.dumps(outcome.failed, default=str)),
            )
    warehouse_conn.commit()
    failures = [(o.suite, f) for o in outcomes for f in o.failed]
    if failures:
        raise BatchValidationFailed(
            f"batch {batch_id} of {source} failed {len(failures)} expectations: "
            + "; ".join(f"{suite}: {f['expectation']}({f['column']}): {f['unexpected_count']} rows"
                        for suite, f in failures)
            + f". Data Docs: {DATA_DOCS_INDEX}"
        )
    log.info("batch %s of %s passed %s expectations", batch_id, source, sum(o.evaluated for o in outcomes))
    return [asdict(o) for o in outcomes]


def _has_rows(conn, table: str, batch_id: int) -> bool:
    with conn.cursor() as cur:
        cur.execute(f"select exists (select 1 from {table} where _batch_id = %s)", (batch_id,))
        return cur.fetchone()[0]


def _failure(r) -> dict:
    return {
        "expectation": r.expectation_config.type,
        "column": r.expectation_config.kwargs.get("column"),
        "unexpected_count": r.result.get("unexpected_count"),
        "sample": r.result.get("partial_unexpected_list", [])[:5],
        "details": {k: v for k, v in r.result.items() if k in ("observed_value", "details")} or None,
    }
