"""The end-of-run summary: what arrived, in what state, and who did best and worst. Chinese first, for the offices
that read it; English beside it, for engineers."""
from __future__ import annotations

import unicodedata
from datetime import date, timedelta

from hcp.sources import SOURCES

RATING_CHANNELS = [name for name, source in SOURCES.items() if source.is_channel]
# the performance marts whose bottom (末位) the summary names: (English, Chinese, table, code column, name column)
PERFORMANCE_KINDS = (
    ("agency", "机构", "agency_performance", "org_code", "org_name"),
    ("platform", "平台", "platform_performance", "platform_code", "platform_name"),
    ("staff", "工作人员", "staff_performance", "staff_no", None),  # staff names stay out of the marts
    ("service item", "事项", "service_item_performance", "item_code", "item_name"),
    ("region", "区划", "region_performance", "region_code", "region_name"),
)
BOTTOM_COLUMNS = ("period_grain", "period_start", "bottom_streak", "is_bottom", "rank", "peer_count")
BOTTOM_LINES = 10
STATUS_ZH = {"open": "整改中", "closed": "已办结", "no_order": "未派单", "struck_out": "申诉剔除", "withdrawn": "已撤回"}
ADMIN_LEVEL_ZH = {"province": "省级", "city": "市级", "county": "县级", "township": "乡镇级"}


def fit(text, width: int, right: bool = False) -> str:
    """Text padded to a width in terminal columns: a Chinese character takes two."""
    text = str(text)
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    padding = " " * max(width - used, 0)
    return padding + text if right else text + padding


def rows_per_source(conn, night: date) -> list[tuple]:
    """Per source, this night's batches: how many, how many failed, and rows read, landed, passed, quarantined, held."""
    with conn.cursor() as cur:
        cur.execute(
            """
            with per_batch as (
                select b.source, b.status, b.rows_read, b.rows_landed,
                       (select count(*) from audit.quarantine q where q.batch_id = b.batch_id) as quarantined,
                       (select count(*) from audit.quarantine q
                        where q.batch_id = b.batch_id and q.stage = 'validation') as quarantined_landed,
                       (select count(*) from audit.held h
                        where h.batch_id = b.batch_id and h.released_at is null) as held
                from audit.batches b
                where b.night = %(night)s
            )
            -- passed as it stands now: held replies released since their batch was judged count where they went
            select source, count(*), count(*) filter (where status = 'failed'),
                   coalesce(sum(rows_read), 0), coalesce(sum(rows_landed), 0),
                   coalesce(sum(rows_landed - quarantined_landed - held), 0), sum(quarantined), sum(held)
            from per_batch
            group by source
            """,
            {"night": night},
        )
        found = {row[0]: row[1:] for row in cur.fetchall()}
    return [(name, *found.get(name, (0,) * 7)) for name in SOURCES]


def quarantine_reasons(conn, night: date) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(
            """
            select b.source, q.reason, count(*) from audit.quarantine q join audit.batches b using (batch_id)
            where b.night = %s group by 1, 2 order by 1, 3 desc
            """,
            (night,),
        )
        return cur.fetchall()


def alerts(conn, night: date) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(
            """
            select a.source, a.rule, a.policy, a.message from audit.batch_alerts a
            join audit.batches b using (batch_id) where b.night = %s order by a.raised_at
            """,
            (night,),
        )
        return cur.fetchall()


def rating_versions(conn, night: date) -> dict[str, tuple[int, int]]:
    """Per channel, the rating versions this night's batches delivered: those still the latest version of their
    rating, and those a later version replaced. Read by batch, so the report's cost follows the night: counting
    every version ever delivered took 26 s a night on 30 nights of 1M ratings."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.fct_ratings') is not null")
        if not cur.fetchone()[0]:  # dbt has not built the marts yet (a night that failed before it)
            return {}
        # The ids as values, not a subquery: through a staging view's anti-joins the planner would join a
        # subquery last, after reading every version ever delivered (20 s on 30 nights of 1M ratings).
        cur.execute("select coalesce(array_agg(batch_id), '{}') from audit.batches where night = %s", (night,))
        night_batches = cur.fetchone()[0]
        # counted per staging view: the union view computes the keyed hashes, which need dbt's session key
        delivered = " union all ".join(
            f"select '{c}' as channel, count(*) as versions "
            f"from staging.{SOURCES[c].staging_model} where batch_id = any(%(batches)s)"
            for c in RATING_CHANNELS)
        cur.execute(
            f"""
            select delivered.channel, coalesce(latest.versions, 0), delivered.versions - coalesce(latest.versions, 0)
            from ({delivered}) as delivered
            left join (
                select channel, count(*) as versions from intermediate.int_ratings_deduplicated
                where batch_id = any(%(batches)s) group by channel
            ) as latest using (channel)
            """,
            {"batches": night_batches},
        )
        return {channel: (current, older) for channel, current, older in cur.fetchall()}


def agencies_of_month(conn, night: date, best: bool, limit: int = 5) -> list[tuple]:
    """The month's agencies by adjusted score: code, name, admin level, rank among peers, score and rating count."""
    order = "desc" if best else "asc"
    named = "org_name" if has_columns(conn, "marts.agency_performance", ("org_name",)) else "null::text"
    with conn.cursor() as cur:
        cur.execute(
            f"""
            select org_code, {named}, admin_level, rank, round(adjusted_score, 2), rating_count
            from marts.agency_performance
            where period_grain = 'month' and period_start = %s and adjusted_score is not null
            order by adjusted_score {order}, org_code
            limit %s
            """,
            (night.replace(day=1), limit),
        )
        return cur.fetchall()


def bad_reviews(conn) -> list[tuple]:
    """Bad reviews by status as of the night, with how many are overdue and their overdue working days."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select status, count(*), count(*) filter (where is_overdue), coalesce(sum(overdue_working_days), 0)
            from marts.fct_bad_reviews group by status order by status
            """
        )
        return cur.fetchall()


def due_soon(conn) -> tuple[int, int] | None:
    """Bad reviews due soon (超期预警) as of the night: to close, and to verify; None when the mart has no such flags
    (a night whose dbt failed before building them)."""
    if not has_columns(conn, "marts.fct_bad_reviews", ("is_due_soon", "is_verification_due_soon")):
        return None
    with conn.cursor() as cur:
        cur.execute("select count(*) filter (where is_due_soon), count(*) filter (where is_verification_due_soon) "
                    "from marts.fct_bad_reviews")
        return cur.fetchone()


def last_month_ended(night: date) -> date:
    """The first day of the latest month that has ended by the end of night D: D's own on its last day."""
    month = night.replace(day=1)
    return month if (night + timedelta(days=1)).day == 1 else (month - timedelta(days=1)).replace(day=1)


def bottom_streaks(conn, month: date) -> list[tuple] | None:
    """The entities at the bottom (末位) of their peers two or more months running up to the month given, longest
    streak first: (kind, kind in Chinese, code, name, streak, rank, peers). A kind whose mart lacks a column it needs
    is left out; None when every kind is."""
    parts = []
    for order, (kind, kind_zh, table, code, name) in enumerate(PERFORMANCE_KINDS):
        if not has_columns(conn, f"marts.{table}", (code, *BOTTOM_COLUMNS)):
            continue
        named = name if name and has_columns(conn, f"marts.{table}", (name,)) else "null::text"
        parts.append(f"select {order} as kind_order, '{kind}' as kind, '{kind_zh}' as kind_zh, {code}::text as code, "
                     f"{named} as name, bottom_streak, rank, peer_count from marts.{table} "
                     f"where period_grain = 'month' and period_start = %(month)s and is_bottom and bottom_streak >= 2")
    if not parts:
        return None
    with conn.cursor() as cur:
        cur.execute(f"select kind, kind_zh, code, name, bottom_streak, rank, peer_count "
                    f"from ({' union all '.join(parts)}) as bottom "
                    f"order by bottom_streak desc, kind_order, rank desc, code", {"month": month})
        return cur.fetchall()


def pain_points(conn, night: date) -> list[tuple]:
    """The month's service items flagged as pain points (堵点), worst first, with their commonest reasons by name
    (by code, in a mart built before the names were added)."""
    reasons = ("top_reason_names" if has_columns(conn, "marts.service_item_pain_points", ("top_reason_names",))
               else "top_reason_codes")
    with conn.cursor() as cur:
        cur.execute(
            f"""
            select item_code, item_name, round(100 * bad_review_rate, 1), rating_count, {reasons}
            from marts.service_item_pain_points
            where month_start = %s and is_pain_point
            order by bad_review_rate desc, item_code
            """,
            (night.replace(day=1),),
        )
        return cur.fetchall()


SHOWN_MARTS = ("marts.fct_bad_reviews", "marts.agency_performance", "marts.service_item_pain_points")


def built(conn, table: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (table,))
        return cur.fetchone()[0]


def has_columns(conn, table: str, columns: tuple[str, ...]) -> bool:
    """The table (schema.name) exists with every one of the columns: marts another night's dbt has not built
    yet, or built before a column was added, are read only where they can be."""
    schema, name = table.split(".")
    with conn.cursor() as cur:
        cur.execute("select count(distinct column_name) from information_schema.columns "
                    "where table_schema = %s and table_name = %s and column_name = any(%s)",
                    (schema, name, list(columns)))
        return cur.fetchone()[0] == len(set(columns))


def due_soon_lines(conn, night: date) -> list[str]:
    counts = due_soon(conn)
    if counts is None:
        return []
    to_close, to_verify = counts
    return ["", f"超期预警 Due soon after night {night} (marts.fct_bad_reviews):",
            f"  整改即将到期 to close    {to_close:>6}",
            f"  核实即将到期 to verify   {to_verify:>6}"]


def bottom_streak_lines(conn, night: date) -> list[str]:
    month = last_month_ended(night)
    found = bottom_streaks(conn, month)
    if found is None:
        return []
    lines = ["", f"连续末位 At the bottom two months running or more, up to {month:%Y年%m月} "
                 "(offices call them in, 约谈):"]
    for kind, kind_zh, code, name, streak, rank, peers in found[:BOTTOM_LINES]:
        lines.append(f"  {kind_zh} {kind}  {code}" + (f"  {name}" if name else "")
                     + f"  连续 {streak} 个月 {streak} months running, 第 {rank}/{peers} 名 rank {rank} of {peers}")
    if len(found) > BOTTOM_LINES:
        lines.append(f"  另有 {len(found) - BOTTOM_LINES} 个 and {len(found) - BOTTOM_LINES} more")
    return lines if found else [*lines, "  无 none"]


SOURCE_HEADER = (("批次", "batches", 8), ("失败", "failed", 7), ("读取", "read", 9), ("入库", "landed", 9),
                 ("通过", "passed", 9), ("隔离", "quarantined", 12), ("暂存", "held", 6), ("现行", "current", 9),
                 ("已替代", "superseded", 11))


def source_lines(conn, night: date, versions: dict) -> list[str]:
    lines = ["各来源本夜数据 Rows per source and state (this night's batches):",
             "  " + fit("来源", 30) + "".join(fit(zh, width, right=True) for zh, _, width in SOURCE_HEADER),
             "  " + fit("source", 30) + "".join(fit(en, width, right=True) for _, en, width in SOURCE_HEADER)]
    for name, *counts in rows_per_source(conn, night):
        current, superseded = versions.get(name, ("-", "-"))
        cells = [*counts, current, superseded]
        lines.append("  " + fit(name, 14) + fit(SOURCES[name].name_zh, 16) + "".join(
            fit(value, width, right=True) for value, (_, _, width) in zip(cells, SOURCE_HEADER, strict=True)))
    return [*lines,
            "  (read = landed + quarantined at load; landed = passed + quarantined + held. current/superseded:",
            "   of the versions landed tonight, those still the latest of their rating and those a later one",
            "   replaced; '-': the marts are not built)"]


def agency_lines(conn, night: date) -> list[str]:
    lines = []
    for title_zh, title, best in (("前五名", "Top", True), ("后五名", "Bottom", False)):
        lines += ["", f"{night:%Y年%m月}机构{title_zh} {title} five agencies of {night:%Y-%m} by adjusted score "
                      "(marts.agency_performance):"]
        for org_code, name, level, rank, score, ratings in agencies_of_month(conn, night, best):
            lines.append(f"  {org_code}  {fit(name or '', 24)}{score:>7}  "
                         f"{ADMIN_LEVEL_ZH.get(level, level or '')}第 {rank} 名 rank {rank} of the {level} agencies  "
                         f"{ratings} 条评价 ratings")
    return lines


def render(conn, night: date, links: dict[str, str]) -> str:
    versions = rating_versions(conn, night)
    lines = [f"好差评夜间运行 Haochaping night {night}", "", *source_lines(conn, night, versions)]
    reasons = quarantine_reasons(conn, night)
    if reasons:
        lines += ["", "隔离原因 Quarantined rows by reason (audit.quarantine):"]
        lines += [f"  {fit(source, 14)}{fit(SOURCES[source].name_zh if source in SOURCES else '', 16)}"
                  f"{reason:<24}{count:>8}" for source, reason, count in reasons]
    fired = alerts(conn, night)
    if fired:
        lines += ["", "批次告警 Batch rules that fired (audit.batch_alerts):"]
        lines += [f"  {source:<14}{rule:<18}{policy:<6}{message}" for source, rule, policy, message in fired]
    # a first night whose dbt failed part way has some marts and not others
    shown = [t for t in SHOWN_MARTS if versions and built(conn, t)]
    if not versions:
        lines += ["", "数据集市未生成 The marts have not been built: see the run's log for the task that failed."]
    elif len(shown) < len(SHOWN_MARTS):
        lines += ["", f"尚未生成 Not built yet: {', '.join(t for t in SHOWN_MARTS if t not in shown)}: see the run's "
                      "log for the task that failed."]
    if "marts.fct_bad_reviews" in shown:
        lines += ["", f"差评 Bad reviews as of night {night} (marts.fct_bad_reviews):",
                  "  " + fit("状态", 22) + fit("条数", 8, True) + fit("逾期", 9, True) + fit("逾期工作日", 14, True),
                  "  " + fit("status", 22) + fit("reviews", 8, True) + fit("overdue", 9, True)
                  + fit("overdue days", 14, True)]
        lines += [f"  {fit(' '.join(filter(None, (STATUS_ZH.get(status), status))), 22)}{count:>8}{overdue:>9}{days:>14}"
                  for status, count, overdue, days in bad_reviews(conn)]
    lines += due_soon_lines(conn, night)
    if "marts.agency_performance" in shown:
        lines += agency_lines(conn, night)
    lines += bottom_streak_lines(conn, night)
    if "marts.service_item_pain_points" in shown:
        flagged = pain_points(conn, night)
        lines += ["", f"{night:%Y年%m月}堵点 Pain points of {night:%Y-%m}: service items whose bad rate stands far "
                      "above their peers':"]
        lines += [f"  {code}  {name or ''}  差评率 {rate}% bad of {ratings} ratings, 原因 reasons {'、'.join(reasons)}"
                  for code, name, rate, ratings, reasons in flagged] or ["  无 none"]
    if links:
        lines += ["", "打开 Open:"] + [f"  {label:<14} {value}" for label, value in links.items()]
    return "\n".join(lines)
