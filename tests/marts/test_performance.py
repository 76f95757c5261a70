"""Every figure of the performance tables, recomputed from the facts by plain SQL (docs/contract.md §8).

The recomputation reads only marts.fct_ratings, marts.fct_bad_reviews, the dimensions and the cases as
master data lists them, and spells each rule out once more, per grain, without the dbt macro's structure.
"""
from decimal import Decimal

import pytest

ENTITIES = {
    # table: (entity column, dimension, its key, peer column)
    "agency_performance": ("org_code", "marts.dim_agencies", "org_code", "admin_level"),
    "platform_performance": ("platform_code", "marts.dim_platforms", "platform_code", "platform_type"),
    "staff_performance": ("staff_no", "marts.dim_staff", "staff_no", "org_code"),
}
K = 20  # shrinkage (dbt var shrinkage_k)


def recompute(entity: str, grain: str) -> str:
    period = "{col}" if grain == "day" else "date_trunc('month', {col})::date"
    rated, completed = period.format(col="rated_date"), period.format(col="completed_at_date")
    verification_due, close_due = period.format(col="verification_due_date"), period.format(col="close_due_date")
    return f"""
    with cases as (
        select distinct on (case_no) case_no, org_code, platform_code, staff_no,
               (completed_at at time zone 'Asia/Shanghai')::date as completed_at_date
        from staging.stg_master__cases
        where completed_at is not null
        order by case_no, snapshot_date desc, batch_id desc, line_no desc
    ),
    rated_cases as (
        select distinct case_no from marts.fct_ratings
        where not is_default_rating and not is_withdrawn and not is_struck_out
    ),
    keys as (
        select {entity} as entity, {rated} as period from marts.fct_ratings where is_effective
        union select {entity}, {completed} from cases
        union select {entity}, {verification_due} from marts.fct_bad_reviews where verification_due_date is not null
        union select {entity}, {close_due} from marts.fct_bad_reviews where close_due_date is not null
    )
    select
        keys.entity, keys.period,
        (select count(*) from marts.fct_ratings r
         where r.{entity} = keys.entity and {rated} = keys.period
           and r.is_effective and not r.is_default_rating) as rating_count,
        (select count(*) from marts.fct_ratings r
         where r.{entity} = keys.entity and {rated} = keys.period and r.is_effective and r.is_default_rating)
            as default_rating_count,
        (select avg(level_points) from marts.fct_ratings r
         where r.{entity} = keys.entity and {rated} = keys.period
           and r.is_effective and not r.is_default_rating) as avg_points,
        (select avg(case when level_code <= 3 then 1.0 else 0.0 end) from marts.fct_ratings r
         where r.{entity} = keys.entity and {rated} = keys.period
           and r.is_effective and not r.is_default_rating) as satisfaction_rate,
        (select avg(case when level_code >= 4 then 1.0 else 0.0 end) from marts.fct_ratings r
         where r.{entity} = keys.entity and {rated} = keys.period
           and r.is_effective and not r.is_default_rating) as bad_review_rate,
        (select avg(case when rc.case_no is not null then 1.0 else 0.0 end)
         from cases c left join rated_cases rc using (case_no)
         where c.{entity} = keys.entity and {completed} = keys.period) as evaluation_rate,
        (select avg(case when is_verified_on_time then 1.0 else 0.0 end) from marts.fct_bad_reviews b
         where b.{entity} = keys.entity and {verification_due} = keys.period and is_verified_on_time is not null)
            as on_time_verification_rate,
        (select avg(case when is_closed_on_time then 1.0 else 0.0 end) from marts.fct_bad_reviews b
         where b.{entity} = keys.entity and {close_due} = keys.period and is_closed_on_time is not null)
            as on_time_rectification_rate
    from keys
    where keys.entity is not null
    """


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(Decimal(a) - Decimal(b)) < Decimal("1e-9")


@pytest.mark.parametrize("table", ENTITIES)
def test_every_performance_figure_recomputes_from_the_facts(demo_run, table):
    entity, dimension, key, peer = ENTITIES[table]
    conn = demo_run[1]
    with conn.cursor() as cur:
        cur.execute(f"select {key}, {peer} from {dimension}")
        peer_of = dict(cur.fetchall())
        expected = {}
        for grain in ("day", "month"):
            cur.execute(recompute(entity, grain))
            names = [d.name for d in cur.description]
            for row in cur.fetchall():
                figures = dict(zip(names, row, strict=False))
                expected[(figures.pop("entity"), grain, figures.pop("period"))] = figures
        cur.execute(f"select * from marts.{table}")
        names = [d.name for d in cur.description]
        actual = {(r[entity], r["period_grain"], r["period_start"]): r
                  for r in (dict(zip(names, row, strict=False)) for row in cur.fetchall())}
    conn.commit()
    assert set(actual) == set(expected)

    # the peer mean, the scores and the ranks, from the figures above
    peer_points: dict = {}
    for (entity_id, grain, period), f in expected.items():
        group = (peer_of.get(entity_id), grain, period)
        total, count = peer_points.get(group, (Decimal(0), 0))
        if f["rating_count"]:
            total += f["avg_points"] * f["rating_count"]
            count += f["rating_count"]
        peer_points[group] = (total, count)

    def score(f, avg):
        rates = [f[r] if f[r] is not None else 1 for r in
                 ("evaluation_rate", "on_time_rectification_rate", "on_time_verification_rate")]
        return 100 * (Decimal("0.5") * avg / 10 + Decimal("0.2") * rates[0] + Decimal("0.2") * rates[1]
                      + Decimal("0.1") * rates[2])

    for (entity_id, grain, period), f in expected.items():
        total, count = peer_points[(peer_of.get(entity_id), grain, period)]
        f["peer_avg_points"] = total / count if count else None
        n = f["rating_count"]
        f["performance_score"] = score(f, f["avg_points"]) if n else None
        f["adjusted_score"] = (score(f, (n * f["avg_points"] + K * f["peer_avg_points"]) / (n + K)) if n else None)
    for (entity_id, grain, period), f in expected.items():
        peers = [g["adjusted_score"] for (e, gr, p), g in expected.items()
                 if gr == grain and p == period and peer_of.get(e) == peer_of.get(entity_id)
                 and g["adjusted_score"] is not None]
        known = f["adjusted_score"] is not None and peer_of.get(entity_id) is not None
        f["rank"] = 1 + sum(1 for s in peers if s > f["adjusted_score"] + Decimal("1e-12")) if known else None

    mismatches = [
        (k, column, f[column], actual[k][column])
        for k, f in expected.items() for column in f
        if not close(f[column], actual[k][column])
    ]
    assert not mismatches, mismatches[:10]
    ranked = [r for r in actual.values() if r["rank"] is not None]
    assert ranked
    if table != "platform_performance":  # the demo world has one platform of each type
        assert any(r["rank"] > 1 for r in ranked)
