"""The dashboard as Superset's import bundle: one database (the warehouse as hcp_bi), a dataset per mart the
board reads, its charts and the dashboard, each with a uuid derived from its name, so importing the bundle again
updates every object in place. Dataset columns, types and Chinese labels come from the marts' dbt contracts."""
from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from hcp import settings
from hcp.dashboard import board

NAMESPACE = uuid.UUID("5d1f6c3e-8b0a-4a4e-9c39-6a1e0d2b7f10")
VERSION = "1.0.0"
DATABASE_NAME = "好差评数仓 Haochaping warehouse (hcp_bi)"
DATABASE_FILE = "databases/hcp_warehouse.yaml"
TIME_TYPES = {"date", "timestamptz", "timestamp"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def uid(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}/{name}"))


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    label: str  # the Chinese name a reader sees


def label_of(description: str, fallback: str) -> str:
    """The Chinese name in a contract's description: 'Agency name (机构名称).' -> 机构名称; '满意率 ...' -> 满意率."""
    for part in re.findall(r"[（(]([^()（）]+)[)）]", description):
        if CHINESE.search(part):
            return re.split(r"[,，:：;；]", part)[0].strip()
    head = description.split(" ")[0]
    return head if CHINESE.search(head) else fallback


def mart_columns(models_dir: Path | None = None) -> dict[str, list[Column]]:
    """Each mart's columns as its enforced contract lists them."""
    found = {}
    for path in sorted((models_dir or settings.DBT_PROJECT_DIR / "models" / "marts").glob("_*__models.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            found[model["name"]] = [Column(c["name"], c["data_type"], label_of(c.get("description", ""), c["name"]))
                                    for c in model.get("columns", [])]
    return found


def database(uri: str) -> dict:
    return {"database_name": DATABASE_NAME, "sqlalchemy_uri": uri, "uuid": uid("database", "warehouse"),
            "version": VERSION, "expose_in_sqllab": True, "allow_dml": False, "allow_ctas": False,
            "allow_cvas": False, "allow_run_async": False, "allow_file_upload": False, "cache_timeout": None,
            "extra": {"allows_virtual_table_explore": False}}


def dataset(mart: str, columns: list[Column]) -> dict:
    times = [c.name for c in columns if c.data_type in TIME_TYPES]
    return {
        "table_name": mart, "schema": "marts", "uuid": uid("dataset", mart), "database_uuid": uid("database", "warehouse"),
        "version": VERSION, "main_dttm_col": times[0] if times else None, "sql": None, "cache_timeout": None,
        "columns": [{"column_name": c.name, "verbose_name": c.label, "type": c.data_type.upper(),
                     "is_dttm": c.data_type in TIME_TYPES, "groupby": True, "filterable": True, "is_active": True}
                    for c in columns],
        "metrics": [{"metric_name": m.name, "verbose_name": m.label, "expression": m.sql, "metric_type": None,
                     "d3format": m.number_format} for m in board.METRICS.get(mart, ())],
    }


def number_format(column: Column) -> str | None:
    if column.name.endswith("_rate"):
        return board.PERCENT
    if column.data_type == "numeric":
        return board.SCORE
    return None


def where_clause(chart: board.Chart) -> str:
    conditions = [f"{column} = {value}" for column, value in chart.where.items()]
    if chart.ended_periods_only:
        conditions.append(f"({board.ENDED_BY_THE_LATEST_NIGHT})")
    return " and ".join(conditions)


def adhoc_where(chart: board.Chart) -> list[dict]:
    clause = where_clause(chart)
    return [{"expressionType": "SQL", "sqlExpression": clause, "clause": "WHERE"}] if clause else []


def table_chart(chart: board.Chart, columns: dict[str, Column]) -> tuple[dict, list[dict]]:
    params = {
        "viz_type": "table", "query_mode": "raw", "all_columns": list(chart.columns),
        "order_by_cols": [json.dumps([column, ascending]) for column, ascending in chart.order_by],
        "row_limit": chart.row_limit, "server_pagination": False, "include_search": True, "page_length": 20,
        "adhoc_filters": adhoc_where(chart), "table_timestamp_format": "%Y-%m-%d", "show_cell_bars": False,
        "column_config": {name: {"d3NumberFormat": fmt} for name in chart.columns
                          if (fmt := number_format(columns[name]))},
    }
    # no metrics at all, not an empty list: Superset groups by the columns whenever metrics are given
    query = {"columns": list(chart.columns), "orderby": [list(o) for o in chart.order_by],
             "row_limit": chart.row_limit, "filters": [], "extras": {"where": where_clause(chart), "having": ""}}
    return params, [query]


def series_chart(chart: board.Chart, columns: dict[str, Column]) -> tuple[dict, list[dict]]:
    """A line over time or bars over a category, one line or bar segment per value of the series column."""
    over_time = columns[chart.x].data_type in TIME_TYPES
    metrics = list(chart.metrics)
    number = next(m.number_format for m in board.METRICS[chart.dataset] if m.name == metrics[0])
    params = {
        "viz_type": "echarts_timeseries_line" if chart.kind == "line" else "echarts_timeseries_bar",
        "x_axis": chart.x, "metrics": metrics, "groupby": [chart.series], "adhoc_filters": adhoc_where(chart),
        "row_limit": chart.row_limit, "show_legend": True, "rich_tooltip": True, "y_axis_format": number,
        "x_axis_time_format": board.MONTH, "tooltipTimeFormat": board.MONTH, "markerEnabled": True,
        "stack": chart.kind == "bar", "orientation": "vertical", "truncate_metric": True,
        **({} if over_time else {"x_axis_sort": metrics[0], "x_axis_sort_asc": False}),
    }
    # the periods' own first days, not a time grain: a grain truncates in the server's time zone and moves
    # every month to 16:00 of the day before, in UTC
    axis = {"columnType": "BASE_AXIS", "sqlExpression": chart.x, "label": chart.x, "expressionType": "SQL"}
    query = {
        "columns": [axis, chart.series], "metrics": metrics, "orderby": [[metrics[0], False]],
        "row_limit": chart.row_limit, "series_columns": [chart.series], "filters": [],
        "extras": {"where": where_clause(chart), "having": ""},
        "post_processing": [
            {"operation": "pivot", "options": {"index": [chart.x], "columns": [chart.series],
                                               "aggregates": {m: {"operator": "mean"} for m in metrics},
                                               "drop_missing_columns": False}},
            {"operation": "flatten"},
        ],
    }
    return params, [query]


def chart_file(chart: board.Chart, columns: dict[str, Column]) -> dict:
    params, queries = (table_chart if chart.kind == "table" else series_chart)(chart, columns)
    params["datasource"] = f"{uid('dataset', chart.dataset)}__table"
    query_context = {"datasource": {"id": 0, "type": "table"}, "force": False, "queries": queries,
                     "form_data": params, "result_format": "json", "result_type": "full"}
    return {"slice_name": chart.title, "viz_type": params["viz_type"], "uuid": uid("chart", chart.key),
            "version": VERSION, "dataset_uuid": uid("dataset", chart.dataset), "params": params,
            "query_context": json.dumps(query_context, ensure_ascii=False), "cache_timeout": None,
            "description": None, "certified_by": None, "certification_details": None}


def layout(charts: dict[str, board.Chart], placeholder: dict[str, int]) -> dict:
    """Superset's position tree: a markdown header, then each row of charts. Chart ids are placeholders the
    import maps to the real ones by uuid."""
    rows = [f"ROW-{i}" for i in range(len(board.LAYOUT) + 1)]
    tree = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": rows, "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": board.TITLE}},
        rows[0]: {"type": "ROW", "id": rows[0], "children": ["MARKDOWN-header"], "parents": ["ROOT_ID", "GRID_ID"],
                  "meta": {"background": "BACKGROUND_TRANSPARENT"}},
        "MARKDOWN-header": {"type": "MARKDOWN", "id": "MARKDOWN-header", "children": [],
                            "parents": ["ROOT_ID", "GRID_ID", rows[0]],
                            "meta": {"code": board.HEADER, "width": 12, "height": 30}},
    }
    for row, placed in zip(rows[1:], board.LAYOUT, strict=True):
        tree[row] = {"type": "ROW", "id": row, "children": [f"CHART-{key}" for key, _ in placed],
                     "parents": ["ROOT_ID", "GRID_ID"], "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for key, width in placed:
            tree[f"CHART-{key}"] = {
                "type": "CHART", "id": f"CHART-{key}", "children": [], "parents": ["ROOT_ID", "GRID_ID", row],
                "meta": {"chartId": placeholder[key], "uuid": uid("chart", key), "sliceName": charts[key].title,
                         "width": width, "height": 30 if key == "data_status" else 60}}
    return tree


def native_filter(spec: board.Filter, charts: dict[str, board.Chart], columns: dict[str, dict[str, Column]],
                  placeholder: dict[str, int]) -> dict:
    """A select filter on one column. It applies to every chart whose mart has the column, unless the chart fixes
    the column, or the column of the filter this one narrows (a chart of months follows no chosen period)."""
    parent = next((f.column for f in board.FILTERS if f.key == spec.parent), None)
    excluded = [placeholder[key] for key, chart in charts.items()
                if spec.column not in columns[chart.dataset] or spec.column in chart.where or parent in chart.where]
    default = ({"extraFormData": {"filters": [{"col": spec.column, "op": "IN", "val": [spec.default]}]},
                "filterState": {"value": [spec.default]}, "ownState": {}} if spec.default else
               {"extraFormData": {}, "filterState": {}, "ownState": {}})
    return {
        "id": f"NATIVE_FILTER-{spec.key}", "type": "NATIVE_FILTER", "filterType": "filter_select",
        "name": spec.name, "description": "",
        "targets": [{"datasetUuid": uid("dataset", spec.dataset), "column": {"name": spec.column}}],
        "controlValues": {"multiSelect": False, "enableEmptyFilter": False, "defaultToFirstItem": spec.latest_first,
                          "inverseSelection": False, "searchAllOptions": False, "sortAscending": not spec.latest_first},
        "defaultDataMask": default,
        # requiredFirst: the first value is applied before the charts load, not left for the Apply button
        "requiredFirst": spec.latest_first,
        "adhoc_filters": [{"expressionType": "SQL", "clause": "WHERE", "sqlExpression": spec.offers_only}]
        if spec.offers_only else [],
        "time_range": "No filter",
        "cascadeParentIds": [f"NATIVE_FILTER-{spec.parent}"] if spec.parent else [],
        "scope": {"rootPath": ["ROOT_ID"], "excluded": excluded},
        "chartsInScope": [], "tabsInScope": [],
    }


def files(warehouse_uri: str, models_dir: Path | None = None) -> dict[str, dict]:
    """The bundle's files by path. warehouse_uri: SQLAlchemy's URI of the warehouse as hcp_bi, without password."""
    all_columns = mart_columns(models_dir)
    charts = {chart.key: chart for chart in board.CHARTS}
    marts = sorted({chart.dataset for chart in board.CHARTS} | {f.dataset for f in board.FILTERS})
    columns = {mart: {c.name: c for c in all_columns[mart]} for mart in marts}
    placeholder = {key: i + 1 for i, key in enumerate(charts)}
    dashboard = {
        "dashboard_title": board.TITLE, "slug": board.SLUG, "uuid": uid("dashboard", board.SLUG), "version": VERSION,
        "published": True, "css": "", "description": None, "certified_by": None, "certification_details": None,
        "position": layout(charts, placeholder),
        "metadata": {"native_filter_configuration": [native_filter(f, charts, columns, placeholder)
                                                     for f in board.FILTERS],
                     "color_scheme": "supersetColors", "refresh_frequency": 0, "cross_filters_enabled": False,
                     "expanded_slices": {}, "timed_refresh_immune_slices": [], "label_colors": {},
                     "shared_label_colors": [], "color_scheme_domain": []},
    }
    return {
        "metadata.yaml": {"version": VERSION, "type": "assets", "timestamp": "2026-01-01T00:00:00+00:00"},
        DATABASE_FILE: database(warehouse_uri),
        **{f"datasets/hcp_warehouse/{mart}.yaml": dataset(mart, all_columns[mart]) for mart in marts},
        **{f"charts/{key}.yaml": chart_file(chart, columns[chart.dataset]) for key, chart in charts.items()},
        f"dashboards/{board.SLUG}.yaml": dashboard,
    }


def build(warehouse_uri: str, models_dir: Path | None = None) -> bytes:
    """The bundle as a ZIP: every file under one top folder, as Superset's importer expects."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path, content in files(warehouse_uri, models_dir).items():
            entry = zipfile.ZipInfo(f"haochaping/{path}", date_time=(2026, 1, 1, 0, 0, 0))  # the same bytes each time
            bundle.writestr(entry, yaml.safe_dump(content, allow_unicode=True, sort_keys=False), zipfile.ZIP_DEFLATED)
    return out.getvalue()
