"""The dashboard's bundle, without Superset: it reads marts only, columns the marts' contracts declare, and it is
the same bundle every time it is built, so applying it again updates objects in place."""
import io
import zipfile

import pytest
import yaml

from hcp import settings
from hcp.dashboard import board, bundle

URI = "postgresql+psycopg2://hcp_bi@127.0.0.1:54329/hcp"


@pytest.fixture(scope="module")
def files():
    return bundle.files(URI)


def test_every_dataset_is_a_mart_and_the_exposure_names_exactly_those(files):
    datasets = [content for path, content in files.items() if path.startswith("datasets/")]
    assert {d["schema"] for d in datasets} == {"marts"} and all(d["sql"] is None for d in datasets)
    exposures = yaml.safe_load((settings.DBT_PROJECT_DIR / "models" / "marts" / "_exposures.yml").read_text(
        encoding="utf-8"))["exposures"]
    [exposure] = [e for e in exposures if e["type"] == "dashboard"]
    assert sorted(exposure["depends_on"]) == sorted(f"ref('{d['table_name']}')" for d in datasets)
    assert exposure["url"].endswith(f"/superset/dashboard/{board.SLUG}/")


def test_every_column_a_chart_or_filter_reads_is_in_its_marts_contract():
    declared = {mart: {c.name for c in columns} for mart, columns in bundle.mart_columns().items()}
    for chart in board.CHARTS:
        used = {*chart.columns, *chart.where, *(c for c, _ in chart.order_by), chart.x, chart.series} - {None}
        assert used <= declared[chart.dataset], (chart.key, used - declared[chart.dataset])
        assert set(chart.metrics) <= {m.name for m in board.METRICS.get(chart.dataset, ())}, chart.key
    for spec in board.FILTERS:
        assert spec.column in declared[spec.dataset], spec.key


def test_the_layout_places_every_chart_once_in_rows_of_twelve():
    placed = [key for row in board.LAYOUT for key, _ in row]
    assert sorted(placed) == sorted(chart.key for chart in board.CHARTS)
    assert all(sum(width for _, width in row) <= 12 for row in board.LAYOUT)


def test_a_filter_leaves_out_the_charts_whose_mart_lacks_its_column_or_fixes_it(files):
    [dashboard] = [content for path, content in files.items() if path.startswith("dashboards/")]
    placeholders = {node["meta"]["uuid"]: node["meta"]["chartId"]
                    for node in dashboard["position"].values() if isinstance(node, dict) and node.get("type") == "CHART"}
    by_key = {chart.key: placeholders[bundle.uid("chart", chart.key)] for chart in board.CHARTS}
    grain = next(f for f in dashboard["metadata"]["native_filter_configuration"] if f["id"].endswith("period_grain"))
    # the rankings follow the period chosen; the monthly lines are months whatever is chosen; the morning list,
    # the pain points and the state of the data have no period grain
    not_ranked = ("data_status", "satisfaction_by_month", "bad_reviews_by_month", "watchlist_by_agency", "watchlist",
                  "pain_points")
    assert sorted(grain["scope"]["excluded"]) == sorted(by_key[k] for k in not_ranked)
    # the period follows the grain: the monthly lines, which fix the grain, show every month whatever is chosen
    period = next(f for f in dashboard["metadata"]["native_filter_configuration"] if f["id"].endswith("period_start"))
    assert sorted(period["scope"]["excluded"]) == sorted(by_key[k] for k in not_ranked)


def test_the_bundle_is_the_same_every_time_and_its_files_sit_under_one_folder():
    first, second = bundle.build(URI), bundle.build(URI)
    assert first == second
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert {name.split("/")[0] for name in names} == {"haochaping"}


@pytest.mark.parametrize(("description", "label"), [
    ("Agency name (机构名称).", "机构名称"),
    ("满意率 levels 1 to 3 / rating_count.", "满意率"),
    ("Period grain (统计周期: day, month, quarter or year).", "统计周期"),
    ("Rank among peers (排名，并列同名次).", "排名"),
    ("A count of ratings.", "rating_count"),
])
def test_a_columns_label_is_the_chinese_name_in_its_description(description, label):
    assert bundle.label_of(description, "rating_count") == label
