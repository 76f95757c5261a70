"""Cosmos's local against its watcher execution mode, on our dbt project, under Airflow's own scheduler.

Runs the demo world's last night (the `make run` world) through scheduler + dag-processor + api-server +
triggerer with the LocalExecutor, once per mode and repetition, and reads the times from Airflow's metadata:
the dbt task group (first dbt task start to last dbt task end) and the whole run.

    PYTHONPATH=plugins .venv/bin/python bench/dbt_execution_modes.py [--repeat 2] [--parallelism 4]
"""
from __future__ import annotations

import argparse
import statistics
import time

import psycopg2

from hcp import connections, settings
from hcp_dev import runtime
from hcp_dev.cli import DEMO_HOTLINE_DB
from hcp_dev.cluster import Cluster, free_port, local_executor_env
from hcp_dev.simulator import world as sim_world
from hcp_dev.simulator.demo import demo_sources


def timings(airflow_db: dict, run_id: str) -> dict[str, float]:
    with psycopg2.connect(**airflow_db) as conn, conn.cursor() as cur:
        cur.execute(
            """
            select extract(epoch from max(end_date) filter (where task_id like 'dbt.%%')
                                    - min(start_date) filter (where task_id like 'dbt.%%')),
                   count(*) filter (where task_id like 'dbt.%%'),
                   (select extract(epoch from end_date - start_date) from dag_run
                    where dag_id = 'hcp_nightly' and run_id = %(run)s)
            from task_instance where dag_id = 'hcp_nightly' and run_id = %(run)s
            """,
            {"run": run_id},
        )
        dbt_seconds, dbt_tasks, run_seconds = cur.fetchone()
    return {"dbt": float(dbt_seconds), "tasks": dbt_tasks, "run": float(run_seconds)}


def run_mode(mode: str, repeat: int, parallelism: int, warehouse_value: str, source_env: dict, night: str) -> list:
    api_port = free_port()
    env = local_executor_env(runtime.airflow_env(warehouse_value, {**source_env, "HCP_DBT_EXECUTION_MODE": mode}),
                             api_port, parallelism)
    runtime.migrate_airflow_db(env)
    logs = settings.LOCAL_DIR / "logs" / f"bench-{mode}"
    logs.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(env, logs, run_timeout=1800)
    cluster.start_local(api_port)
    results = []
    try:
        cluster.wait_until_ready(api_port)
        for i in range(repeat):
            run_id = f"bench_{mode}_{int(time.time())}_{i}"
            state = cluster.run_night(night, run_id)
            kw = connections.postgres_kwargs(connections.parse(settings.WAREHOUSE_CONN_ID, warehouse_value))
            result = {"mode": mode, "state": state, **timings({**kw, "dbname": settings.AIRFLOW_DB}, run_id)}
            print(result, flush=True)
            results.append(result)
    finally:
        cluster.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--parallelism", type=int, default=4)
    parser.add_argument("--modes", default="local,watcher")
    args = parser.parse_args()
    warehouse_value = runtime.start_warehouse()
    server = connections.postgres_kwargs(connections.parse(settings.WAREHOUSE_CONN_ID, warehouse_value))
    runtime.create_databases(server, [DEMO_HOTLINE_DB])
    world = sim_world.build_world()
    results = []
    with demo_sources(world, settings.LOCAL_DIR / "demo", 400, server, DEMO_HOTLINE_DB) as source_env:
        for mode in args.modes.split(","):
            results += run_mode(mode, args.repeat, args.parallelism, warehouse_value, source_env,
                                world.end.isoformat())
    print("\n| mode | runs | state | dbt tasks | dbt group, median s | whole run, median s |")
    print("|---|---|---|---|---|---|")
    for mode in args.modes.split(","):
        rs = [r for r in results if r["mode"] == mode]
        print(f"| {mode} | {len(rs)} | {','.join(sorted({r['state'] for r in rs}))} | {rs[0]['tasks']} | "
              f"{statistics.median(r['dbt'] for r in rs):.0f} | {statistics.median(r['run'] for r in rs):.0f} |")


if __name__ == "__main__":
    main()
