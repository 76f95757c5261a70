"""好差评绩效看板, the dashboard an assessment office opens: what it shows, in what order, filtered by what.
Every chart reads one mart; hcp.dashboard.bundle turns this into Superset's import bundle."""
from __future__ import annotations

from dataclasses import dataclass, field

TITLE = "好差评绩效看板"
SLUG = "hcp-performance"
ADMIN = "admin"  # the Superset login that applies the dashboard (make dashboard and compose's superset-init make it)
HEADER = """## 好差评绩效看板 <small>Haochaping performance dashboard</small>

政务服务"好差评"每晚数据：各机构、平台、事项、区划的评价与整改情况。选择统计周期与统计期查看排名；
分数与排名规则见项目文档。<small>Read from the warehouse's marts as `hcp_bi`; periods, scores and ranks as the
contract defines them (docs/contract.md).</small>"""

PERCENT = ".1%"  # 96.3%
SCORE = ",.2f"
MONTH = "%Y年%m月"


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    sql: str
    number_format: str | None = None


# metrics of the datasets, beside their columns; rates are summed from their counts, never averaged
METRICS = {
    "platform_performance": (
        Metric("satisfaction", "满意率 satisfaction",
               "sum(level_1_count + level_2_count + level_3_count)::numeric / nullif(sum(rating_count), 0)", PERCENT),
        Metric("bad_review", "差评率 bad reviews",
               "sum(level_4_count + level_5_count)::numeric / nullif(sum(rating_count), 0)", PERCENT),
    ),
    "rectification_watchlist": (Metric("reviews", "差评条数 reviews", "count(*)", ",d"),),
}


@dataclass(frozen=True)
class Chart:
    key: str  # stable: the chart's uuid and place on the dashboard come from it
    title: str
    dataset: str  # the mart it reads
    kind: str  # table, line or bar
    columns: tuple[str, ...] = ()  # a table's columns, in order
    order_by: tuple[tuple[str, bool], ...] = ()  # (column, ascending)
    where: dict[str, str] = field(default_factory=dict)  # column -> the one value (SQL) the chart always shows
    x: str | None = None  # a line's or a bar's axis
    series: str | None = None  # one line or bar segment per value
    metrics: tuple[str, ...] = ()
    ended_periods_only: bool = False  # only the periods the latest night has seen to their end
    row_limit: int = 1000


# a period the latest night that built the marts (succeeded or degraded) has seen to its end: the night of
# 31 October already holds the first hours of November
ENDED_BY_THE_LATEST_NIGHT = """period_start + case period_grain when 'day' then interval '1 day'
    when 'month' then interval '1 month' when 'quarter' then interval '3 months' when 'year' then interval '1 year'
    end <= (select max(night) + 1 from marts.data_status where status <> 'failed')"""


def dashboard_url(superset_url: str) -> str:
    return f"{superset_url.rstrip('/')}/superset/dashboard/{SLUG}/"


RANK_COLUMNS = ("period_grain", "period_start", "rank", "peer_count", "adjusted_score", "score_change", "rank_change",
                "bottom_streak", "is_bottom", "rating_count", "satisfaction_rate", "bad_review_rate")


def ranking(key: str, title: str, mart: str, entity: tuple[str, ...], peer_group: str) -> Chart:
    return Chart(key, title, mart, "table", columns=(*entity, peer_group, *RANK_COLUMNS),
                 order_by=((peer_group, True), ("rank", True)))


CHARTS = (
    Chart("data_status", "数据状态 State of the data", "data_status", "table",
          columns=("night", "status_zh", "missing_sources_zh", "ended_at", "runs_of_night"),
          where={"is_latest": "true"}),
    ranking("agency_ranking", "机构排名 Agencies by adjusted score", "agency_performance",
            ("org_name", "org_code"), "admin_level"),
    ranking("platform_ranking", "平台排名 Platforms", "platform_performance",
            ("platform_name", "platform_code"), "platform_type"),
    ranking("region_ranking", "区划排名 Regions", "region_performance", ("region_name", "region_code"), "region_level"),
    ranking("item_ranking", "事项排名 Service items", "service_item_performance", ("item_name", "item_code"),
            "case_type"),
    Chart("satisfaction_by_month", "各渠道月度满意率 Satisfaction by month and channel", "platform_performance",
          "line", where={"period_grain": "'month'"}, x="period_start", series="platform_type",
          metrics=("satisfaction",), ended_periods_only=True),
    Chart("bad_reviews_by_month", "各渠道月度差评率 Bad-review rate by month and channel", "platform_performance",
          "line", where={"period_grain": "'month'"}, x="period_start", series="platform_type",
          metrics=("bad_review",), ended_periods_only=True),
    Chart("watchlist_by_agency", "超期预警（按机构） Overdue and due soon, by agency", "rectification_watchlist",
          "bar", x="org_name", series="warning", metrics=("reviews",)),
    Chart("watchlist", "超期预警清单 The morning list", "rectification_watchlist", "table",
          columns=("warning", "org_name", "item_name", "channel_name_zh", "status", "rated_date", "close_due_date",
                   "working_days_to_due", "overdue_working_days", "verification_due_date", "order_no"),
          order_by=(("is_overdue", False), ("working_days_to_due", True), ("org_name", True))),
    Chart("pain_points", "堵点事项 Pain points", "service_item_pain_points", "table",
          columns=("month_start", "item_name", "item_code", "org_code", "bad_review_rate", "peer_bad_review_rate",
                   "rating_count", "bad_review_count", "top_reason_names"),
          where={"is_pain_point": "true"}, order_by=(("month_start", False), ("bad_review_rate", False))),
)

# rows of the dashboard, top to bottom: (chart key, width of 12)
LAYOUT = (
    (("data_status", 12),),
    (("agency_ranking", 12),),
    (("platform_ranking", 6), ("region_ranking", 6)),
    (("item_ranking", 12),),
    (("satisfaction_by_month", 6), ("bad_reviews_by_month", 6)),
    (("watchlist_by_agency", 12),),
    (("watchlist", 12),),
    (("pain_points", 12),),
)


@dataclass(frozen=True)
class Filter:
    key: str
    name: str
    column: str
    dataset: str  # whose values the filter offers
    default: str | None = None
    parent: str | None = None  # a filter whose choice narrows this one's values
    latest_first: bool = False  # values newest first, the first one chosen and applied as the page opens
    offers_only: str | None = None  # SQL: the rows whose values the filter offers


FILTERS = (
    Filter("period_grain", "统计周期 Period", "period_grain", "agency_performance", default="month"),
    # the ended periods, newest first
    Filter("period_start", "统计期 Period start", "period_start", "agency_performance", parent="period_grain",
           latest_first=True, offers_only=ENDED_BY_THE_LATEST_NIGHT),
    Filter("admin_level", "行政层级 Admin level", "admin_level", "agency_performance"),
    Filter("region_level", "区划层级 Region level", "region_level", "region_performance"),
    Filter("region", "区划 Region", "region_name", "region_performance", parent="region_level"),
)
