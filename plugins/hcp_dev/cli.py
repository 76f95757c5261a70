"""The commands behind the Makefile: ``python -m hcp_dev.cli {demo,night,ui,docs,dashboard,psql,manifest,stop,env}``."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from datetime import date, timedelta

from hcp import connections, preflight, settings, summary, validation, warehouse
from hcp_dev import runtime
from hcp_dev.embedded_pg import BIN
from hcp_dev.simulator import world as sim_world
from hcp_dev.simulator.demo import demo_sources

DEMO_HOTLINE_DB = "hcp_hotline_demo"  # the simulated 12345 database, apart from the warehouse


def run_night(env: dict[str, str], night: date) -> None:
    """One night of hcp_nightly through Airflow itself (``airflow dags test``: a real DAG run, in-process)."""
    logical_date = f"{night + timedelta(days=1)}T02:00:00+08:00"
    log_file = settings.LOCAL_DIR / "logs" / f"hcp_nightly-{night}.log"
    print(f"running hcp_nightly for night {night} (log: {log_file})", flush=True)
    runtime.airflow(["dags", "test", "hcp_nightly", logical_date], env, log_file)


def links(warehouse_value: str, embedded: bool) -> dict[str, str]:
    kw = connections.postgres_kwargs(connections.parse(settings.WAREHOUSE_CONN_ID, warehouse_value))
    psql = f"{BIN / 'psql'} -h {kw['host']} -p {kw['port']} -U {kw['user']} {kw['dbname']}"
    return {
        "psql (marts)": f"make psql   # or: {psql}",
        "Airflow UI": "make ui     # then http://127.0.0.1:8080",
        "dbt docs": "make docs   # then http://127.0.0.1:8081",
        "GX Data Docs": f"file://{validation.DATA_DOCS_INDEX}",
        "stop server": "make stop" if embedded else "(external warehouse: nothing to stop)",
    }


def print_summary(warehouse_value: str, night: date) -> None:
    embedded = runtime.uses_embedded()
    os.environ[runtime.WAREHOUSE_VAR] = warehouse_value
    with warehouse.connection() as conn:
        print(summary.render(conn, night, links(warehouse_value, embedded)))


def cmd_demo(args: argparse.Namespace) -> None:
    started = time.monotonic()
    warehouse_value = runtime.start_warehouse()
    server = connections.postgres_kwargs(connections.parse(settings.WAREHOUSE_CONN_ID, warehouse_value))
    runtime.create_databases(server, [DEMO_HOTLINE_DB])
    world = sim_world.build_world(seed=args.seed, ratings_per_day=args.ratings_per_day,
                                  bad_review_scale=args.bad_review_scale)
    root = settings.LOCAL_DIR / "demo"
    with demo_sources(world, root, args.ratings_per_day, server, DEMO_HOTLINE_DB) as source_connections:
        env = runtime.airflow_env(warehouse_value, source_connections)
        runtime.migrate_airflow_db(env)
        run_night(env, world.end)
    print_summary(warehouse_value, world.end)
    print(f"\nmake run finished in {time.monotonic() - started:.0f}s")


def cmd_night(args: argparse.Namespace) -> None:
    warehouse_value = runtime.warehouse_value()
    env = runtime.airflow_env(warehouse_value)
    preflight.check_night(warehouse_value, env)  # every problem named before anything starts
    runtime.start_warehouse()
    runtime.migrate_airflow_db(env)
    run_night(env, args.date)
    print_summary(warehouse_value, args.date)


def cmd_ui(args: argparse.Namespace) -> None:
    env = runtime.airflow_env(runtime.start_warehouse())
    runtime.migrate_airflow_db(env)
    print("Airflow UI on http://127.0.0.1:8080 ; the admin password is in "
          f"{settings.LOCAL_DIR / 'airflow' / 'simple_auth_manager_passwords.json.generated'}", flush=True)
    os.execve(runtime.airflow_bin(), [runtime.airflow_bin(), "standalone"], env)


def cmd_env(args: argparse.Namespace) -> None:
    """Print the environment of our Airflow commands as shell exports, for running airflow or dbt by hand."""
    env = runtime.airflow_env(runtime.start_warehouse())
    from hcp.dbt import profile_env

    for key in (runtime.WAREHOUSE_VAR, connections.env_var(settings.PII_KEY_CONN_ID)):
        if key in env:
            os.environ[key] = env[key]
    env.update(profile_env())
    for key in sorted(env):
        if key.startswith(("AIRFLOW", "HCP_", "PYTHONPATH", "DBT_", "GX_", "PGOPTIONS")):
            print(f"export {key}={shlex.quote(env[key])}")


def cmd_psql(args: argparse.Namespace) -> None:
    kw = connections.postgres_kwargs(connections.parse(settings.WAREHOUSE_CONN_ID, runtime.start_warehouse()))
    env = {**os.environ, "PGPASSWORD": kw.get("password", "")}
    argv = [str(BIN / "psql"), "-h", kw["host"], "-p", str(kw["port"]), "-U", kw["user"], kw["dbname"]]
    os.execve(argv[0], argv, env)


def cmd_docs(args: argparse.Namespace) -> None:
    from hcp import dbt

    os.environ[runtime.WAREHOUSE_VAR] = runtime.start_warehouse()
    if not (settings.DBT_PROJECT_DIR / "target" / "catalog.json").exists():
        dbt.run(["docs", "generate"])
    dbt.run(["docs", "serve", "--host", "127.0.0.1", "--port", "8081", "--no-browser"], capture=False)


def cmd_manifest(args: argparse.Namespace) -> None:
    from hcp import dbt

    print(dbt.ensure_manifest())


def cmd_dashboard(args: argparse.Namespace) -> None:
    from hcp_dev import superset

    warehouse_value = runtime.start_warehouse()
    os.environ[runtime.WAREHOUSE_VAR] = warehouse_value
    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('marts.data_status') is not null")
        if not cur.fetchone()[0]:
            sys.exit("the warehouse has no marts yet: `make run` first")
    server = superset.Server(superset.HOME, superset.PORT)
    print(f"preparing Superset in {server.home} (the first time takes about a minute)", flush=True)
    server.prepare()
    server.start()
    superset.apply_dashboard(server, warehouse_value)
    print(f"\n好差评绩效看板 Haochaping dashboard: {server.dashboard_url}\n"
          f"  login: {superset.ADMIN}, password in {server.home / 'admin_password'} "
          "(or HCP_SUPERSET_ADMIN_PASSWORD, when it was set the first time)\n"
          f"  reads the warehouse as {preflight.BI_ROLE}; Superset's log: {server.log_file}\n"
          "  stop it with `make stop`")


def cmd_stop(args: argparse.Namespace) -> None:
    from hcp_dev import superset

    if superset.Server(superset.HOME, superset.PORT).stop():
        print("Superset stopped")
    if runtime.uses_embedded():
        runtime.embedded_server().stop()
        print("embedded PostgreSQL stopped")


def night_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (expected YYYY-MM-DD, e.g. 2026-10-31)") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hcp")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate the demo world and run its last night end to end")
    demo.add_argument("--seed", type=int, default=sim_world.DEFAULT_SEED)
    demo.add_argument("--ratings-per-day", type=int, default=400)
    demo.add_argument("--bad-review-scale", type=float, default=sim_world.BAD_REVIEW_SCALE,
                      help="share of the simulator's unscaled bad reviews to keep (1: about 4%% of ratings)")
    demo.set_defaults(func=cmd_demo)
    night = sub.add_parser("night", help="run one night against the sources the Airflow connections name")
    night.add_argument("--date", required=True, type=night_date, help="night D, YYYY-MM-DD")
    night.set_defaults(func=cmd_night)
    sub.add_parser("ui", help="airflow standalone on the same state").set_defaults(func=cmd_ui)
    sub.add_parser("psql", help="psql on the warehouse").set_defaults(func=cmd_psql)
    sub.add_parser("docs", help="serve dbt docs on 127.0.0.1:8081").set_defaults(func=cmd_docs)
    sub.add_parser("env", help="print shell exports for airflow and dbt by hand").set_defaults(func=cmd_env)
    sub.add_parser("manifest", help="dbt parse for Airflow, when the project changed").set_defaults(func=cmd_manifest)
    sub.add_parser("dashboard", help="Superset with the dashboard on the warehouse, on 127.0.0.1:8088"
                   ).set_defaults(func=cmd_dashboard)
    sub.add_parser("stop", help="stop Superset and the embedded PostgreSQL").set_defaults(func=cmd_stop)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except RuntimeError as exc:
        sys.exit(f"{parser.prog} {args.command}: {exc}")


if __name__ == "__main__":
    main()
