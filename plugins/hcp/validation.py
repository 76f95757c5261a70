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
from datetime import date
from pathlib import Path

from hcp import connections, settings

log = logging.getLogger(__name__)

GX_URL_VAR = "HCP_GX_WAREHOUSE_URL"  # substituted into great_expectations.yml; never written to disk
DATA_DOCS_INDEX = settings.GX_ROOT / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"




class BatchValidationFailed(RuntimeError):
    pass


class ReconciliationFailed(RuntimeError):
    pass


# Batch rules and their policies (docs/validation.md): a fail keeps the batch from the marts and fails
# the source's task; a warn is recorded and shown in the run summary, and the night goes on.
MAX_QUARANTINE_SHARE = 0.05  # policy fail: more than this share of a batch's rows quarantined as defects
# What people reply is not a broken feed: opt-outs and free text that names no level do not count as defects.
# Nor is an event whose rating has not arrived (its channel may be down tonight): it is judged again when re-read.
NOT_DEFECTS = ("sms_opt_out", "sms_unparseable", "unknown_case", "unknown_evaluation")
VOLUME_DROP_ALARM = 0.10  # policy warn: a night's rows under this share of the median of the 7 nights before


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


def judge_batch(warehouse_conn, source: str, batch_id: int, night: date) -> dict:
    """Row rules, SMS holds, batch rules and the reconciliation of one batch, in one transaction.

    Idempotent: a batch already reconciled is not judged twice (a retried task).
    """
    from hcp import rules
    from hcp.sources import SOURCES

    contract = SOURCES[source]
    holders = [s for s in SOURCES.values() if s.holds_for_case_days]
    with warehouse_conn.cursor() as cur:
        # Lock order: audit.batches first, as warehouse.ensure_schema and loading.land_batch take it
        cur.execute("select 1 from audit.batches where batch_id = %s for update", (batch_id,))
        cur.execute("select * from audit.reconciliation where batch_id = %s", (batch_id,))
        if cur.fetchone() is None:
            for table in contract.tables:
                if table.id_column:
                    cur.execute(rules.quarantine_sql(source, table),
                                {"batch_id": batch_id, "future": rules.end_of_future(night)})
            if contract.holds_for_case_days:
                cur.execute(rules.hold_sql(contract), {"batch_id": batch_id})
                # the reconciliation looks each row up among the held rows just written (see loading._analyze)
                cur.execute("analyze audit.held")
            _batch_rules(cur, source, batch_id, night, _reconcile(cur, source, batch_id))
        if contract.releases_held:  # new snapshots may list held cases; time may be up for others
            for holder in holders:
                cur.execute(rules.release_sql(holder), {"night": night})
        cur.execute("select * from audit.reconciliation where batch_id = %s", (batch_id,))
        columns = [c.name for c in cur.description]
        counts = dict(zip(columns, cur.fetchone(), strict=True))
        cur.execute("select rule, policy, message from audit.batch_alerts where batch_id = %s", (batch_id,))
        alerts = cur.fetchall()
    warehouse_conn.commit()
    if not counts["balanced"]:
        with warehouse_conn.cursor() as cur:
            cur.execute("select rows_landed from audit.batches where batch_id = %s", (batch_id,))
            landed_at_load = cur.fetchone()[0]
        raise ReconciliationFailed(
            f"batch {batch_id} of {source} does not reconcile: read {counts['rows_read']} = landed at load "
            f"{landed_at_load} + rejected at load {counts['rejected_at_load']}; rows in raw now "
            f"{counts['rows_landed']} = passed {counts['passed']} + quarantined {counts['quarantined']} "
            f"+ held {counts['held']}"
        )
    failing = [message for _, policy, message in alerts if policy == "fail"]
    if failing:
        raise BatchValidationFailed(f"batch {batch_id} of {source}: " + "; ".join(failing))
    return {k: v for k, v in counts.items() if k != "checked_at"}


def _reconcile(cur, source: str, batch_id: int) -> dict:
    from hcp.sources import SOURCES

    tables = SOURCES[source].raw_tables
    landed_sql = " + ".join(f"(select count(*) from {t} where _batch_id = %(b)s)" for t in tables)
    passed_sql = " + ".join(
        f"""(select count(*) from {t} r where r._batch_id = %(b)s
              and not exists (select 1 from audit.quarantine q where q.batch_id = r._batch_id
                              and q.source_page = r._source_page and q.line_no = r._line_no and q.stage = 'validation')
              and not exists (select 1 from audit.held h where h.batch_id = r._batch_id
                              and h.source_page = r._source_page and h.line_no = r._line_no))"""
        for t in tables)
    cur.execute(
        f"""
        insert into audit.reconciliation
            (batch_id, source, rows_read, rows_landed, rejected_at_load, passed, quarantined, held, balanced)
        select %(b)s, %(source)s, b.rows_read, landed, rejected, passed, quarantined, held,
               b.rows_read = b.rows_landed + rejected and b.rows_landed = landed
               and landed = passed + quarantined + held
        from audit.batches b,
             lateral (select {landed_sql} as landed, {passed_sql} as passed,
                      (select count(*) from audit.quarantine where batch_id = %(b)s and stage = 'load') as rejected,
                      (select count(*) from audit.quarantine
                       where batch_id = %(b)s and stage = 'validation') as quarantined,
                      (select count(*) from audit.held where batch_id = %(b)s) as held) counts
        where b.batch_id = %(b)s
        returning rows_read
        """,
        {"b": batch_id, "source": source},
    )
    return {"rows_read": cur.fetchone()[0]}


def _batch_rules(cur, source: str, batch_id: int, night: date, counts: dict) -> None:
    from hcp import rules
    from hcp.sources import SOURCES

    alerts = []
    cur.execute("select count(*) from audit.quarantine where batch_id = %s and reason <> all(%s)",
                (batch_id, list(NOT_DEFECTS)))
    defects = cur.fetchone()[0]
    if counts["rows_read"] and defects / counts["rows_read"] > MAX_QUARANTINE_SHARE:
        alerts.append(("quarantine_share", "fail",
                       f"{defects} of {counts['rows_read']} rows quarantined as defects, over the "
                       f"{MAX_QUARANTINE_SHARE:.0%} a batch may lose"))
    cur.execute(
        """
        with nightly as (
            select night, sum(rows_read) as rows_read from audit.batches
            where source = %(source)s and status = 'succeeded' and night between %(night)s::date - 7 and %(night)s
            group by night
        )
        select (select rows_read from nightly where night = %(night)s),
               (select percentile_cont(0.5) within group (order by rows_read) from nightly
                where night < %(night)s and rows_read > 0)
        """,
        {"source": source, "night": night},
    )
    tonight, median = cur.fetchone()
    if median and (tonight or 0) < VOLUME_DROP_ALARM * median:
        alerts.append(("volume_drop", "warn",
                       f"{tonight or 0} rows tonight against a median of {median:.0f} over the nights before"))
    cur.execute("select coalesce(schema_drift, '{}') from audit.batches where batch_id = %s", (batch_id,))
    drift = cur.fetchone()[0]
    missing = [d.removeprefix("missing ") for d in drift if d.startswith("missing ")]
    unexpected = [d.removeprefix("unexpected ") for d in drift if d.startswith("unexpected ")]
    if missing:
        alerts.append(("column_drift", "fail", f"fields the contract names are missing: {', '.join(missing)}"))
    if unexpected:
        alerts.append(("column_drift", "warn", f"fields the contract does not name (not landed): {', '.join(unexpected)}"))
    for table in (t for t in SOURCES[source].tables if t.reason_codes):
        cur.execute(
            f"select code, count(*) from ({table.reason_codes.codes_sql(table.name)}) codes (code) "
            "where code <> all(%(known)s) group by code order by code",
            {"batch_id": batch_id, "known": rules.known_reason_codes()},
        )
        unknown = cur.fetchall()
        if unknown:
            alerts.append(("unknown_reason_codes", "warn", "reason codes not in the list, kept: "
                           + ", ".join(f"{code} ({n} rows)" for code, n in unknown)))
    for rule, policy, message in alerts:
        cur.execute("insert into audit.batch_alerts (batch_id, source, rule, policy, message) "
                    "values (%s, %s, %s, %s, %s)", (batch_id, source, rule, policy, message))
