"""好差评绩效看板 on the demo night's warehouse, as `make dashboard` sets it up: Superset from its own virtualenv,
the bundle applied twice, every chart's data asked for through Superset's REST API over the hcp_bi connection,
and the dashboard opened in a real browser (Debian's Chromium), whose screenshot is kept in test-output/."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from hcp import connections, settings
from hcp.dashboard import board, bundle
from hcp.dashboard.superset_api import SupersetError
from hcp_dev import superset
from tests.conftest import query

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = settings.PROJECT_ROOT / "test-output" / "dashboard.png"


@pytest.fixture(scope="session")
def dashboard(demo_run, superset_server):
    """The dashboard applied to the demo night's marts twice, nothing doubling: as `make dashboard` applies it, then
    as docker compose's dashboard-apply does. (server, API client, warehouse)"""
    _, conn, env, _ = demo_run
    warehouse_var = connections.env_var(settings.WAREHOUSE_CONN_ID)
    client = superset.apply_dashboard(superset_server, env[warehouse_var])
    applied = subprocess.run(
        [sys.executable, "-m", "hcp.dashboard.apply"], capture_output=True, text=True, timeout=300,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(settings.PROJECT_ROOT / "plugins"),
             warehouse_var: env[warehouse_var], "SUPERSET_URL": superset_server.url,
             "SUPERSET_ADMIN_PASSWORD": superset_server.admin_password,
             # as compose gives it; the suite's server trusts local logins, so it is handed over and not checked
             "HCP_BI_PASSWORD": "a-password-the-server-does-not-ask-for"})
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert superset_server.dashboard_url in applied.stdout
    return superset_server, client, conn


def test_every_chart_returns_rows_over_the_read_only_connection(dashboard):
    _, client, _ = dashboard
    charts = client.dashboard_charts(board.SLUG)
    assert sorted(c["slice_name"] for c in charts) == sorted(c.title for c in board.CHARTS)
    for chart in charts:
        results = client.chart_data(chart["id"])
        assert results and all(r["rowcount"] > 0 for r in results), chart["slice_name"]


def test_the_monthly_satisfaction_per_channel_is_the_share_of_ratings_at_levels_one_to_three(dashboard):
    """The chart's figures, against the same share counted from the rating facts, outside the marts' rollups, for
    the months the latest night has ended (not the first hours of November it already holds)."""
    _, client, conn = dashboard
    [chart] = [c for c in client.dashboard_charts(board.SLUG) if c["slice_name"].startswith("各渠道月度满意率")]
    [result] = client.chart_data(chart["id"])
    shown = {}
    for row in result["data"]:
        month = datetime.fromtimestamp(row["period_start"] / 1000, UTC).date()
        for column, value in row.items():
            if column != "period_start" and value is not None:
                shown[(month, column.split(", ")[-1])] = round(Decimal(str(value)), 6)
    counted = {}
    for month, platform_type, satisfied, ratings in query(conn, """
            select r.rated_month, p.platform_type,
                   count(*) filter (where r.level_code <= 3), count(*)
              from marts.fct_ratings r join marts.dim_platforms p using (platform_code)
             where r.counts_in_scores
               and r.rated_month < date_trunc('month', (select max(night) + 1 from marts.data_status))
             group by 1, 2"""):
        counted[(month, platform_type)] = [satisfied, ratings]
    assert shown == {key: round(Decimal(satisfied) / ratings, 6) for key, (satisfied, ratings) in counted.items()}


def test_the_connection_reads_the_marts_and_nothing_else(dashboard):
    _, client, _ = dashboard
    database_id = client.database_id(bundle.DATABASE_NAME)
    # SQL Lab refuses current_user and the catalogs that would name the role; what the session may use says it
    assert client.sql(database_id, "select " + ", ".join(
        f"has_schema_privilege('{schema}', 'usage') as {schema}" for schema in ("marts", "staging", "raw", "audit"))
                      )["data"] == [{"marts": True, "staging": False, "raw": False, "audit": False}]
    assert client.sql(database_id, "select count(*) as nights from marts.data_status")["data"][0]["nights"] == 1
    for table in ("audit.runs", "raw.pc_evaluations", "staging.stg_pc__evaluations"):
        with pytest.raises(SupersetError, match="permission denied"):
            client.sql(database_id, f"select count(*) from {table}")


def test_the_dashboard_renders_every_chart_in_a_browser(dashboard):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "no browser: apt-get install chromium fonts-noto-cjk (.ci/run does)"
    server, _, conn = dashboard
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # tall enough for the whole dashboard: Superset scrolls inside the page, so a full-page shot misses it
        page = browser.new_page(viewport={"width": 1440, "height": 3400}, locale="zh-CN")
        page.goto(f"{server.url}/login/")
        page.fill("#username", superset.ADMIN)
        page.fill("#password", server.admin_password)
        page.click('[data-test="login-button"]')
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(server.dashboard_url)
        # every chart done: drawn, or an error shown (the header's markdown has a holder too, and never counts)
        page.wait_for_function(
            """count => [...document.querySelectorAll('[data-test="dashboard-component-chart-holder"]')].filter(h =>
                h.querySelector('.ant-alert-error') ||
                (h.querySelector('.slice_container') && !h.querySelector('[data-test="loading-indicator"]'))
            ).length === count""", arg=len(board.CHARTS), timeout=120_000)
        page.wait_for_timeout(2000)  # the charts' entry animations
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        errors = page.locator(".ant-alert-error").all_inner_texts()
        assert errors == []
        charts = page.locator('[data-test="dashboard-component-chart-holder"]:has(.slice_container)')
        assert charts.count() == len(board.CHARTS)
        for i in range(charts.count()):  # drawn, with something in it (the holder's own icons are svg: not those)
            chart = charts.nth(i).locator(".slice_container")
            assert chart.locator("table tbody tr, canvas").count() > 0, charts.nth(i).inner_text()[:200]
            assert chart.locator(".ant-empty").count() == 0, charts.nth(i).inner_text()[:200]
        assert board.TITLE in page.title() or page.get_by_text(board.TITLE).count() > 0
        # as it opens, the rankings show one period: the newest month the latest night has ended
        shown_periods = page.evaluate("""label => {
            const holder = [...document.querySelectorAll('[data-test="dashboard-component-chart-holder"]')]
                .find(h => h.innerText.includes('机构排名'));
            const headers = [...holder.querySelectorAll('thead th')].map(th => th.innerText.trim());
            const column = headers.indexOf(label);
            return [...new Set([...holder.querySelectorAll('tbody tr')].map(tr => tr.children[column].innerText))];
        }""", next(c.label for c in bundle.mart_columns()["agency_performance"] if c.name == "period_start"))
        browser.close()
    [[night]] = query(conn, "select night from marts.data_status where is_latest")
    assert shown_periods == [night.replace(day=1).isoformat()]  # the demo's night is the last day of a month
