"""The record of each run of a night: audit.runs, the summary in the log, and the verdict.

A run is 'succeeded' when every source landed an accepted batch and the marts were built, 'degraded' when
the marts were built without some sources (named: the next night catches up from their watermarks), and
'failed' when the marts were not built. The truth comes from the warehouse, not from Airflow's task states,
so the record is the same however the run was executed.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from hcp import summary, warehouse
from hcp.sources import SOURCES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    run_id: str
    night: date
    status: str
    failed_sources: list[str]
    newly_overdue: int | None
    stages: dict[str, float]
    summary: str


@contextmanager
def stage(run_id: str, name: str) -> Iterator[None]:
    """Time a stage; it is recorded only when it ends well, which is how the report knows it happened."""
    started = datetime.now().astimezone()
    yield
    record_stage(run_id, name, started)


def record_stage(run_id: str, name: str, started_at: datetime) -> None:
    """A stage that began at started_at has ended well now."""
    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute(
            """
            insert into audit.run_stages (run_id, stage, started_at, ended_at) values (%s, %s, %s, clock_timestamp())
            on conflict (run_id, stage) do update set started_at = excluded.started_at, ended_at = excluded.ended_at
            """,
            (run_id, name, started_at),
        )
        conn.commit()


def failed_sources(conn, night: date, since: datetime) -> list[str]:
    """Sources with no accepted batch for the night since the run started: down, rejected or never reached."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select distinct b.source from audit.batches b
            join audit.accepted_batches a using (batch_id)
            where b.night = %s and b.started_at >= %s
            """,
            (night, since),
        )
        landed = {source for (source,) in cur.fetchall()}
    return [name for name in SOURCES if name not in landed]


def stage_seconds(conn, run_id: str, night: date, since: datetime) -> dict[str, float]:
    """Seconds per stage: each source's load and validation from its batch, the rest from audit.run_stages."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select 'extract_' || b.source, sum(extract(epoch from b.ended_at - b.started_at))
            from audit.batches b where b.night = %(night)s and b.started_at >= %(since)s and b.ended_at is not null
            group by b.source
            union all
            select 'validate_' || b.source, sum(extract(epoch from r.checked_at - b.ended_at))
            from audit.batches b join audit.reconciliation r using (batch_id)
            where b.night = %(night)s and b.started_at >= %(since)s
            group by b.source
            union all
            select stage, extract(epoch from ended_at - started_at) from audit.run_stages where run_id = %(run_id)s
            """,
            {"night": night, "since": since, "run_id": run_id},
        )
        return {name: round(float(seconds), 1) for name, seconds in cur.fetchall()}


def newly_overdue(conn, night: date) -> int | None:
    """Bad reviews still open whose close deadline was this very night: overdue from the end of it."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.fct_bad_reviews') is not null")
        if not cur.fetchone()[0]:
            return None
        cur.execute("select count(*) from marts.fct_bad_reviews "
                    "where status in ('open', 'no_order') and close_due_date = %s", (night,))
        return cur.fetchone()[0]


def report(run_id: str, night: date, started_at: datetime) -> Run:
    """Judge the run, write audit.runs (a re-run of the same run id replaces its row) and log the summary."""
    with warehouse.connection() as conn:
        warehouse.ensure_schema(conn)
        with conn.cursor() as cur:
            cur.execute("select exists (select 1 from audit.run_stages where run_id = %s and stage = 'dbt_build')",
                        (run_id,))
            marts_built = cur.fetchone()[0]
        failed = failed_sources(conn, night, started_at)
        status = "failed" if not marts_built else ("degraded" if failed else "succeeded")
        overdue = newly_overdue(conn, night)
        stages = stage_seconds(conn, run_id, night, started_at)
        lines = [f"Run {run_id}: {status}" + (f"; missing sources: {', '.join(failed)}" if failed else ""),
                 f"Bad reviews that became overdue tonight: {overdue if overdue is not None else '-'}",
                 "Seconds per stage: " + ", ".join(f"{k} {v}" for k, v in sorted(stages.items())),
                 "", summary.render(conn, night, {})]
        text = "\n".join(lines)
        with conn.cursor() as cur:
            cur.execute(
                """
                insert into audit.runs (run_id, night, status, failed_sources, started_at, newly_overdue, stages,
                                        summary)
                values (%s, %s, %s, %s, %s, %s, %s, %s)
                on conflict (run_id) do update set
                    status = excluded.status, failed_sources = excluded.failed_sources,
                    ended_at = clock_timestamp(), newly_overdue = excluded.newly_overdue,
                    stages = excluded.stages, summary = excluded.summary
                """,
                (run_id, night, status, failed, started_at, overdue, json.dumps(stages), text),
            )
        conn.commit()
    (log.warning if failed or not marts_built else log.info)("%s", text)
    return Run(run_id, night, status, failed, overdue, stages, text)
