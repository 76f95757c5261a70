"""The end-of-run summary: what arrived, in what state, and who did best and worst."""
from __future__ import annotations

from datetime import date

from hcp.sources import SOURCES

MIN_RATINGS_TO_RANK = 30  # a month's handful of ratings says little; the adjusted score of step 4 replaces this


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


def rating_versions(conn) -> dict[str, tuple[int, int]]:
    """Per channel modelled in dbt so far: ratings in their latest version, and older versions superseded."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('staging.stg_pc__evaluations') is not null")
        if not cur.fetchone()[0]:  # dbt has not built staging yet (a night that failed before it)
            return {}
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
    header = ("source", "batches", "failed", "read", "landed", "passed", "quarantined", "held", "current",
              "superseded")
    lines.append("  {:<14}{:>8}{:>7}{:>9}{:>9}{:>9}{:>12}{:>6}{:>9}{:>11}".format(*header))
    for name, batches, failed, read, landed, passed, quarantined, held in rows_per_source(conn, night):
        current, superseded = versions.get(name, ("-", "-"))
        lines.append(f"  {name:<14}{batches:>8}{failed:>7}{read:>9}{landed:>9}{passed:>9}{quarantined:>12}"
                     f"{held:>6}{current:>9}{superseded:>11}")
    lines.append("  (read = landed + quarantined at load; landed = passed + quarantined + held. current/superseded:")
    lines.append("   latest and older versions of every rating so far, for the channels dbt models; '-': not yet)")
    reasons = quarantine_reasons(conn, night)
    if reasons:
        lines += ["", "Quarantined rows by reason (audit.quarantine):"]
        lines += [f"  {source:<14}{reason:<24}{count:>8}" for source, reason, count in reasons]
    fired = alerts(conn, night)
    if fired:
        lines += ["", "Batch rules that fired (audit.batch_alerts):"]
        lines += [f"  {source:<14}{rule:<18}{policy:<6}{message}" for source, rule, policy, message in fired]
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.agency_daily_ratings') is not null")
        marts_built = cur.fetchone()[0]
    if not marts_built:
        lines += ["", "The marts have not been built: see the run's log for the task that failed."]
    for title, best in (("Best", True), ("Worst", False)) if marts_built else ():
        lines += ["", f"{title} five agencies of {night:%Y-%m} by average points (at least {MIN_RATINGS_TO_RANK} ratings):"]
        for org_code, ratings, avg in agencies_of_month(conn, night, best):
            lines.append(f"  {org_code}  {avg:>5}  ({ratings} ratings)")
    lines += ["", "Open:"] + [f"  {label:<14} {value}" for label, value in links.items()]
    return "\n".join(lines)
