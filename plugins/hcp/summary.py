"""The end-of-run summary: what arrived, in what state, and who did best and worst."""
from __future__ import annotations

from datetime import date

from hcp.sources import SOURCES

MIN_RATINGS_TO_RANK = 30  # a month's handful of ratings says little; the adjusted score of step 4 replaces this


def rows_per_source(conn, night: date) -> list[tuple]:
    """Per source, this night's batches: how many, how many failed, rows read, landed and quarantined."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select source, count(*), count(*) filter (where status = 'failed'),
                   coalesce(sum(rows_read), 0), coalesce(sum(rows_landed), 0), coalesce(sum(rows_rejected), 0)
            from audit.batches where night = %s
            group by source
            """,
            (night,),
        )
        found = {row[0]: row[1:] for row in cur.fetchall()}
    return [(name, *found.get(name, (0, 0, 0, 0, 0))) for name in SOURCES]


def rating_versions(conn) -> dict[str, tuple[int, int]]:
    """Per channel modelled in dbt so far: ratings in their latest version, and older versions superseded."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select channel, count(*) filter (where version_rank = 1), count(*) filter (where version_rank > 1)
            from (select channel, row_number() over (partition by channel, evaluation_id
                                                      order by updated_at desc, batch_id desc, line_no desc)
                         as version_rank
                  from staging.stg_pc__evaluations) versions
            group by channel
            """
        )
        return {channel: (current, superseded) for channel, current, superseded in cur.fetchall()}


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
    versions = rating_versions(conn)
    lines = [f"Haochaping night {night}", "", "Rows per source and state (this night's batches):"]
    header = ("source", "batches", "failed", "read", "landed", "quarantined", "current", "superseded")
    lines.append("  {:<14}{:>8}{:>7}{:>10}{:>10}{:>12}{:>10}{:>11}".format(*header))
    for name, batches, failed, read, landed, quarantined in rows_per_source(conn, night):
        current, superseded = versions.get(name, ("-", "-"))
        lines.append(f"  {name:<14}{batches:>8}{failed:>7}{read:>10}{landed:>10}{quarantined:>12}"
                     f"{current:>10}{superseded:>11}")
    lines.append("  (current/superseded: latest and older versions of every rating landed so far, for the")
    lines.append("   channels the dbt models cover; '-': landed in raw, not modelled yet)")
    for title, best in (("Best", True), ("Worst", False)):
        lines += ["", f"{title} five agencies of {night:%Y-%m} by average points (at least {MIN_RATINGS_TO_RANK} ratings):"]
        for org_code, ratings, avg in agencies_of_month(conn, night, best):
            lines.append(f"  {org_code}  {avg:>5}  ({ratings} ratings)")
    lines += ["", "Open:"] + [f"  {label:<14} {value}" for label, value in links.items()]
    return "\n".join(lines)
