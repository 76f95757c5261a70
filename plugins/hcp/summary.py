"""The end-of-run summary: what arrived, in what state, and who did best and worst."""
from __future__ import annotations

from datetime import date

from hcp.sources import SOURCES

MIN_RATINGS_TO_RANK = 30  # a month's handful of ratings says little; the adjusted score of step 4 replaces this


def rows_per_channel(conn, night: date) -> list[tuple]:
    """Per source: rows read and landed this night's batches, and the state of every landed version so far."""
    rows = []
    with conn.cursor() as cur:
        for source in SOURCES.values():
            cur.execute(
                """
                select count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_landed), 0),
                       count(*) filter (where status = 'failed')
                from audit.batches where source = %s and night = %s
                """,
                (source.name, night),
            )
            batches, read, landed, failed = cur.fetchone()
            cur.execute(f"select count(*) from {source.raw_table}")
            versions = cur.fetchone()[0]
            cur.execute("select count(*) from intermediate.int_ratings_deduplicated where channel = %s", (source.name,))
            current = cur.fetchone()[0]
            rows.append((source.name, batches, failed, read, landed, current, versions - current))
    return rows


def agencies_of_month(conn, night: date, best: bool, limit: int = 5) -> list[tuple]:
    month = night.replace(day=1)
    order = "desc" if best else "asc"
    with conn.cursor() as cur:
        cur.execute(
            f"""
            select d.org_code, sum(d.rating_count) as ratings,
                   round(sum(d.avg_points * d.rating_count) / nullif(sum(d.rating_count), 0), 2) as avg_points
            from marts.agency_daily_ratings d
            where d.rating_date >= %s and d.rating_date < (%s::date + interval '1 month')
            group by d.org_code
            having sum(d.rating_count) >= %s
            order by avg_points {order}, d.org_code
            limit %s
            """,
            (month, month, MIN_RATINGS_TO_RANK, limit),
        )
        return cur.fetchall()


def render(conn, night: date, links: dict[str, str]) -> str:
    lines = [f"Haochaping night {night}", "", "Rows per channel and state:"]
    lines.append(f"  {'channel':<8} {'batches':>7} {'failed':>6} {'read':>9} {'landed':>9} {'current':>9} {'superseded':>10}")
    for name, batches, failed, read, landed, current, superseded in rows_per_channel(conn, night):
        lines.append(f"  {name:<8} {batches:>7} {failed:>6} {read:>9} {landed:>9} {current:>9} {superseded:>10}")
    lines.append("  (read/landed: this night's batches; current/superseded: every version landed so far)")
    for title, best in (("Best", True), ("Worst", False)):
        lines += ["", f"{title} five agencies of {night:%Y-%m} by average points (at least {MIN_RATINGS_TO_RANK} ratings):"]
        for org_code, ratings, avg in agencies_of_month(conn, night, best):
            lines.append(f"  {org_code}  {avg:>5}  ({ratings} ratings)")
    lines += ["", "Open:"] + [f"  {label:<14} {value}" for label, value in links.items()]
    return "\n".join(lines)
