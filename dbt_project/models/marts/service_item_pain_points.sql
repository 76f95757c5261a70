-- 堵点、难点: per service item and month, its ratings, bad reviews, bad rate and commonest reasons, flagged
-- when its bad rate stands far above its peers' (every item rated that month, pooled). Thresholds are vars.
with counts as (

    select * from {{ ref('int_rating_counts_daily') }}
    where item_code is not null

),

items as (

    select * from {{ ref('dim_service_items') }}

),

item_months as (

    select
        item_code,
        date_trunc('month', rated_date)::date as month_start,
        sum(rating_count)::bigint as rating_count,
        sum(bad_review_count)::bigint as bad_review_count
    from counts
    group by item_code, date_trunc('month', rated_date)::date
    having sum(rating_count) > 0

),

reason_counts as (

    select
        item_code,
        date_trunc('month', rated_date)::date as month_start,
        reason_code,
        sum(mentions)::bigint as mentions
    from {{ ref('int_reason_counts_daily') }}
    group by 1, 2, 3

),

reason_names as (

    select * from {{ ref('reason_codes') }}

),

top_reasons as (

    -- a code the list does not name keeps its code as its name
    select
        reason_counts.item_code,
        reason_counts.month_start,
        (array_agg(reason_counts.reason_code order by reason_counts.mentions desc, reason_counts.reason_code))
            [1:{{ var('pain_point_top_reasons') }}] as top_reason_codes,
        (array_agg(coalesce(reason_names.reason_name::text, reason_counts.reason_code)
                   order by reason_counts.mentions desc, reason_counts.reason_code))
            [1:{{ var('pain_point_top_reasons') }}] as top_reason_names
    from reason_counts
    left join reason_names on reason_counts.reason_code = reason_names.reason_code
    group by reason_counts.item_code, reason_counts.month_start

),

with_peers as (

    select
        item_months.*,
        item_months.bad_review_count::numeric / item_months.rating_count as bad_review_rate,
        sum(item_months.bad_review_count) over same_month::numeric
            / sum(item_months.rating_count) over same_month as peer_bad_review_rate
    from item_months
    window same_month as (partition by item_months.month_start)

),

final as (

    select
        with_peers.item_code,
        items.item_name,
        items.org_code,
        with_peers.month_start,
        with_peers.rating_count,
        with_peers.bad_review_count,
        with_peers.bad_review_rate,
        coalesce(top_reasons.top_reason_codes, '{}') as top_reason_codes,
        coalesce(top_reasons.top_reason_names, '{}') as top_reason_names,
        with_peers.peer_bad_review_rate,
        with_peers.rating_count >= {{ var('pain_point_min_ratings') }}
            and with_peers.bad_review_count >= {{ var('pain_point_min_bad_reviews') }}
            and with_peers.bad_review_rate
                >= {{ var('pain_point_rate_multiple') }} * with_peers.peer_bad_review_rate
            as is_pain_point
    from with_peers
    left join items on with_peers.item_code = items.item_code
    left join top_reasons
        on with_peers.item_code = top_reasons.item_code and with_peers.month_start = top_reasons.month_start

)

select * from final
