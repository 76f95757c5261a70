"""The record of each run of a night: audit.runs, the summary in the log, and the verdict.

The verdict is read from the run's own task states, as Airflow recorded them (``judge``): a source is missing
when its extract or validate task did not succeed; the marts were built when publish_marts succeeded, which it
does only after every dbt seed, model and test. A run is 'succeeded' when everything succeeded, 'degraded' when
the marts were built without some sources (named: the next night catches up from their watermarks), and
'failed' when they were not built (the dbt models or tests, or the steps, that failed are named).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from hcp import summary, warehouse
from hcp.sources import SOURCES

log = logging.getLogger(__name__)

SUCCESS, FAILED = "success", "failed"
DBT_GROUP = "dbt."  # the task group of hcp.dbt_tasks.marts_task_group
# Cosmos's task ids in the group: `<node>.run`/`.seed` with `<node>.test` after it when the node has tests,
# `<node>_run`/`_seed` when it has none. Anything else there (the watcher's producer) is no node.
NODE_SUFFIXES = (".run", "_run", ".seed", "_seed", ".snapshot", "_snapshot")
STATUS_ZH = {"succeeded": "成功", "degraded": "降级", "failed": "失败"}


def dbt_node(task_id: str) -> str | None:
    """The dbt node a task of the dbt group builds or tests: '<name>', or '<name> tests'; None for a helper."""
    name = task_id.removeprefix(DBT_GROUP)
    if name.endswith(".test"):
        return f"{name.removesuffix('.test')} tests"
    for suffix in NODE_SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return None


@dataclass(frozen=True)
class Verdict:
    status: str
    failed_sources: list[str]
    failed_dbt: list[str]  # seeds and models by name, their tests as '<name> tests'
    failed_steps: list[str]  # the run's own tasks outside the source and dbt groups, e.g. publish_marts

    @property
    def what_failed(self) -> str:
        parts = []
        if self.failed_sources:
            parts.append(f"sources failed (数据源失败): {', '.join(self.failed_sources)}")
        if self.failed_dbt:
            parts.append(f"dbt failed (dbt 失败): {', '.join(self.failed_dbt)}")
        if self.failed_steps:
            parts.append(f"steps failed (步骤失败): {', '.join(self.failed_steps)}")
        if self.status == "failed" and not (self.failed_dbt or self.failed_steps):
            parts.append("the marts were not built (数据集市未构建)")
        return "; ".join(parts)

    @property
    def message(self) -> str:
        what = self.what_failed
        return f"run {self.status} (运行{STATUS_ZH[self.status]})" + (f": {what}" if what else "")


def judge(states: Mapping[str, str | None]) -> Verdict:
    """The verdict on a run from its task states (task id -> Airflow state), whatever its dates."""
    failed_sources = [name for name in SOURCES
                      if any(states.get(f"{name}.{step}") != SUCCESS for step in ("extract", "validate"))]
    failed = sorted(task_id for task_id, state in states.items() if state == FAILED)
    marts_built = states.get("publish_marts") == SUCCESS
    failed_dbt = []
    if not marts_built:  # the producer fails with any model; when a model's retry passed, nothing is missing
        in_dbt = [t for t in failed if t.startswith(DBT_GROUP)]
        failed_dbt = [n for n in map(dbt_node, in_dbt) if n] or [t.removeprefix(DBT_GROUP) for t in in_dbt]
    failed_steps = [t for t in failed
                    if not t.startswith(DBT_GROUP) and t.split(".")[0] not in SOURCES and t != "report"]
    status = "failed" if not marts_built else ("degraded" if failed_sources else "succeeded")
    return Verdict(status, failed_sources, failed_dbt, failed_steps)


@dataclass(frozen=True)
class Run:
    run_id: str
    night: date
    verdict: Verdict
    newly_overdue: int | None
    stages: dict[str, float]
    summary: str

    @property
    def status(self) -> str:
        return self.verdict.status


@contextmanager
def stage(run_id: str, name: str) -> Iterator[None]:
    """Time a stage; it is recorded only when it ends well."""
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


def stage_seconds(conn, run_id: str, batch_ids: list[int]) -> dict[str, float]:
    """Seconds per stage: each source's load and validation from the batch its extract task returned, the rest
    from audit.run_stages."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select 'extract_' || b.source, sum(extract(epoch from b.ended_at - b.started_at))
            from audit.batches b where b.batch_id = any(%(batches)s) and b.ended_at is not null
            group by b.source
            union all
            select 'validate_' || b.source, sum(extract(epoch from r.checked_at - b.ended_at))
            from audit.batches b join audit.reconciliation r using (batch_id)
            where b.batch_id = any(%(batches)s)
            group by b.source
            union all
            select stage, extract(epoch from ended_at - started_at) from audit.run_stages where run_id = %(run_id)s
            """,
            {"batches": list(batch_ids), "run_id": run_id},
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


def report(run_id: str, night: date, started_at: datetime, task_states: Mapping[str, str | None],
           batch_ids: list[int]) -> Run:
    """Judge the run from its task states, write audit.runs (a re-run of the same run id replaces its row) and
    log the summary. batch_ids: the batches the run's extract tasks landed, for the seconds per stage."""
    verdict = judge(task_states)
    with warehouse.connection() as conn:
        warehouse.ensure_schema(conn)
        overdue = newly_overdue(conn, night)
        stages = stage_seconds(conn, run_id, batch_ids)
        what = verdict.what_failed
        lines = [f"Run {run_id}: {verdict.status}" + (f"; {what}" if what else ""),
                 f"Bad reviews that became overdue tonight: {overdue if overdue is not None else '-'}",
                 "Seconds per stage: " + ", ".join(f"{k} {v}" for k, v in sorted(stages.items())),
                 "", summary.render(conn, night, {})]
        text = "\n".join(lines)
        with conn.cursor() as cur:
            cur.execute(
                """
                insert into audit.runs (run_id, night, status, failed_sources, failed_dbt, failed_steps, started_at,
                                        newly_overdue, stages, summary)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                on conflict (run_id) do update set
                    night = excluded.night, status = excluded.status, failed_sources = excluded.failed_sources,
                    failed_dbt = excluded.failed_dbt, failed_steps = excluded.failed_steps,
                    ended_at = clock_timestamp(), newly_overdue = excluded.newly_overdue,
                    stages = excluded.stages, summary = excluded.summary
                """,
                (run_id, night, verdict.status, verdict.failed_sources, verdict.failed_dbt, verdict.failed_steps,
                 started_at, overdue, json.dumps(stages), text),
            )
        conn.commit()
    (log.info if verdict.status == "succeeded" else log.warning)("%s", text)
    return Run(run_id, night, verdict, overdue, stages, text)
