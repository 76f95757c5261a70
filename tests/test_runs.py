"""The run's verdict (audit.runs, the report's message) comes from the run's own task states.

The nights run through Airflow itself (``airflow dags test``, the path of ``make run``) on the demo world,
each on a warehouse of its own: one logical date after the machine's clock with everything succeeding, one
with a source's connection missing and a dbt model the warehouse refuses.
"""
import json
import subprocess
from datetime import date

import psycopg2
import pytest

from hcp import connections, settings
from hcp.runs import dbt_node, judge
from hcp.sources import SOURCES
from hcp_dev import runtime
from hcp_dev.simulator.demo import demo_sources
from tests.conftest import NIGHT, TEST_RATINGS_PER_DAY, query

# --- the verdict from a dict of task states ----------------------------------------------------------------

DBT_TASKS = ["dbt.dbt_producer_watcher", "dbt.dbt_producer_watcher_done", "dbt.channels.seed", "dbt.channels.test",
             "dbt.stg_pc__evaluations.run", "dbt.stg_pc__evaluations.test", "dbt.int_bad_reviews_run",
             "dbt.fct_bad_reviews.run", "dbt.fct_bad_reviews.test", "dbt.dim_dates_run"]


def states(**changed: str) -> dict[str, str]:
    """Every task of a night that went well (report still running), with the states given as
    task_id__with_dots_as_double_underscores=state."""
    tasks = {f"{name}.{step}": "success" for name in SOURCES for step in ("extract", "validate")}
    tasks.update({t: "success" for t in ["resolve_night", "prepare_marts", *DBT_TASKS, "publish_marts"]})
    tasks["report"] = "running"
    tasks.update({k.replace("__", "."): v for k, v in changed.items()})
    return tasks


def test_everything_succeeded():
    verdict = judge(states())
    assert (verdict.status, verdict.failed_sources, verdict.failed_dbt, verdict.failed_steps) == \
        ("succeeded", [], [], [])
    assert verdict.message == "run succeeded (运行成功)"


def test_a_source_down_degrades_the_run_and_is_named():
    verdict = judge(states(hotline__extract="failed", hotline__validate="upstream_failed",
                           sms__validate="failed"))
    assert (verdict.status, verdict.failed_sources, verdict.failed_dbt) == ("degraded", ["hotline", "sms"], [])
    assert verdict.message == "run degraded (运行降级): sources failed (数据源失败): hotline, sms"


def test_a_dbt_model_failing_names_the_model_and_no_source():
    verdict = judge(states(dbt__dbt_producer_watcher="failed", dbt__dbt_producer_watcher_done="upstream_failed",
                           dbt__int_bad_reviews_run="failed", dbt__fct_bad_reviews__run="upstream_failed",
                           dbt__fct_bad_reviews__test="upstream_failed", publish_marts="upstream_failed"))
    assert (verdict.status, verdict.failed_sources, verdict.failed_dbt, verdict.failed_steps) == \
        ("failed", [], ["int_bad_reviews"], [])
    assert verdict.message == "run failed (运行失败): dbt failed (dbt 失败): int_bad_reviews"


def test_a_dbt_test_failing_and_a_source_down():
    verdict = judge(states(pc__extract="failed", pc__validate="upstream_failed", dbt__fct_bad_reviews__test="failed",
                           dbt__channels__seed="failed", dbt__channels__test="upstream_failed",
                           publish_marts="upstream_failed"))
    assert (verdict.status, verdict.failed_sources, verdict.failed_dbt) == \
        ("failed", ["pc"], ["channels", "fct_bad_reviews tests"])
    assert verdict.message == ("run failed (运行失败): sources failed (数据源失败): pc; "
                               "dbt failed (dbt 失败): channels, fct_bad_reviews tests")


def test_a_model_whose_retry_passed_leaves_nothing_failed():
    # the one dbt build failed on the model; the model's own task, retried, built it
    verdict = judge(states(dbt__dbt_producer_watcher="failed", dbt__dbt_producer_watcher_done="upstream_failed"))
    assert (verdict.status, verdict.failed_dbt, verdict.failed_steps) == ("succeeded", [], [])


def test_publishing_or_preparing_failing_is_named():
    verdict = judge(states(publish_marts="failed"))
    assert (verdict.status, verdict.failed_dbt, verdict.failed_steps) == ("failed", [], ["publish_marts"])
    assert verdict.message == "run failed (运行失败): steps failed (步骤失败): publish_marts"
    nothing_built = {t: "upstream_failed" for t in [*DBT_TASKS, "publish_marts"]}
    verdict = judge({**states(prepare_marts="failed"), **nothing_built})
    assert (verdict.status, verdict.failed_dbt, verdict.failed_steps) == ("failed", [], ["prepare_marts"])


def test_a_task_that_never_ran_is_not_a_success():
    tasks = states()
    del tasks["master.validate"], tasks["publish_marts"]
    verdict = judge(tasks)
    assert (verdict.status, verdict.failed_sources) == ("failed", ["master"])
    assert verdict.message == ("run failed (运行失败): sources failed (数据源失败): master; "
                               "the marts were not built (数据集市未构建)")


def test_dbt_task_ids_name_their_nodes():
    assert [dbt_node(f"dbt.{t}") for t in ("int_bad_reviews_run", "fct_ratings.run", "fct_ratings.test",
                                            "channels.seed", "level_points_seed", "dbt_producer_watcher",
                                            "dbt_producer_watcher_done")] == \
        ["int_bad_reviews", "fct_ratings", "fct_ratings tests", "channels", "level_points", None, None]


# --- nights through Airflow ---------------------------------------------------------------------------------

# the warehouse refuses to create anything of int_bad_reviews: a model failing in dbt, as a bad deploy would
REFUSE_INT_BAD_REVIEWS = """
create function public.refuse_int_bad_reviews() returns event_trigger language plpgsql as $$
begin
    if exists (select 1 from pg_event_trigger_ddl_commands() where object_identity like '%int_bad_reviews%') then
        raise exception 'the test refuses int_bad_reviews';
    end if;
end
$$;
create event trigger refuse_int_bad_reviews on ddl_command_end execute function public.refuse_int_bad_reviews();
"""


@pytest.fixture(scope="module")
def airflow_night(make_database, pg_server, demo_world, tmp_path_factory):
    """Run a night with ``airflow dags test`` on a warehouse of its own: (run(name, logical_date, conf, env
    changes) -> (exit code, output, warehouse connection))."""
    tmp = tmp_path_factory.mktemp("runs")
    make_database("airflow_runs")
    server = {"host": pg_server.host, "port": pg_server.port, "user": "postgres"}
    runtime.create_databases({**server, "dbname": "postgres"}, ["hotline_runs"])
    opened = []
    with demo_sources(demo_world, tmp / "sources", TEST_RATINGS_PER_DAY, server, "hotline_runs") as conns:
        # each night sets its own warehouse; Airflow's database is the one below
        unused = json.dumps({"conn_type": "postgres", "host": pg_server.host, "port": pg_server.port,
                             "login": "postgres", "schema": "hcp_runs_unused"})
        base = runtime.airflow_env(unused, {
            **conns,
            "AIRFLOW_HOME": str(tmp / "airflow"),
            "HCP_LOCAL_DIR": str(tmp / "local"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
                f"postgresql+psycopg2://postgres@{pg_server.host}:{pg_server.port}/airflow_runs",
            "HCP_TASK_RETRIES": "0",  # a failed task fails at once, no retry delay
        })
        runtime.airflow(["db", "migrate"], base, tmp / "migrate.log")
        runtime.airflow(["pools", "set", settings.LOAD_POOL, "4", "loads"], base, tmp / "pools.log")

        def run(name: str, logical_date: str, conf: dict, setup_sql: str = "", drop: tuple[str, ...] = ()):
            warehouse_value = make_database(f"hcp_runs_{name}")
            conn = psycopg2.connect(**connections.postgres_kwargs(connections.parse("w", warehouse_value)))
            opened.append(conn)
            if setup_sql:
                with conn.cursor() as cur:
                    cur.execute(setup_sql)
                conn.commit()
            env = {**base, connections.env_var(settings.WAREHOUSE_CONN_ID): warehouse_value}
            for conn_id in drop:
                env.pop(connections.env_var(conn_id))
            result = subprocess.run([runtime.airflow_bin(), "dags", "test", "hcp_nightly", logical_date,
                                     *(["-c", json.dumps(conf)] if conf else [])],
                                    env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
            output = result.stdout + result.stderr
            (tmp / f"{name}.log").write_text(output)
            return result.returncode, output, conn

        yield run
    for conn in opened:
        conn.close()


def run_row(conn) -> tuple:
    [row] = query(conn, "select status, failed_sources, failed_dbt, failed_steps, stages from audit.runs")
    return row


def test_a_night_whose_logical_date_is_after_the_clock_misses_no_source(airflow_night):
    # logical date in 2027, after this machine's clock; the night asked for is the demo world's last
    code, output, conn = airflow_night("future", "2027-03-01T02:00:00+08:00", {"night": NIGHT.isoformat()})
    assert code == 0, output[-4000:]
    status, failed_sources, failed_dbt, failed_steps, stages = run_row(conn)
    assert (status, failed_sources, failed_dbt, failed_steps) == ("succeeded", [], [], [])
    # each source's load is timed from the batch its extract task returned, whatever the run's dates
    assert {f"extract_{s}" for s in SOURCES} | {f"validate_{s}" for s in SOURCES} | {"dbt_build"} <= set(stages)
    assert query(conn, "select night from audit.runs") == [(NIGHT,)]
    assert query(conn, "select count(*) > 0 from marts.fct_ratings") == [(True,)]


def test_a_night_with_a_source_missing_and_a_model_failing_names_both(airflow_night):
    code, output, conn = airflow_night("broken", "2026-11-01T02:00:00+08:00", {},
                                       setup_sql=REFUSE_INT_BAD_REVIEWS, drop=("hcp_hotline",))
    assert code != 0, output[-4000:]
    status, failed_sources, failed_dbt, failed_steps, _ = run_row(conn)
    assert (status, failed_sources, failed_dbt, failed_steps) == ("failed", ["hotline"], ["int_bad_reviews"], [])
    message = ("run failed (运行失败): sources failed (数据源失败): hotline; "
               "dbt failed (dbt 失败): int_bad_reviews")
    assert message in output, output[-4000:]
    [(summary,)] = query(conn, "select summary from audit.runs")
    assert summary.splitlines()[0].endswith(": failed; " + message.split(": ", 1)[1])
    # every other source landed: the marts' failure blames none of them
    landed = query(conn, "select distinct b.source from audit.batches b join audit.accepted_batches using (batch_id)")
    assert {s for (s,) in landed} == set(SOURCES) - {"hotline"}
    assert query(conn, "select night from audit.runs") == [(date(2026, 10, 31),)]
