{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ recount_days('rated_date', touched_rating_days()) }}",
        indexes=[{'columns': ['rated_date']}],
    )
}}
-- depends_on: {{ ref('int_ratings_touched') }}
-- How often each reason code (差评原因) is given by the bad reviews that count, per Beijing day and service
-- item: the pain points' commonest reasons. Incremental as int_rating_counts_daily.
with bad_reviews as (

    select * from {{ ref('int_ratings') }}
    where counts_in_scores and is_bad_level and item_code is not null
    {%- if is_incremental() %}
        and rated_date in ({{ touched_rating_days() }})
    {%- endif %}

),

mentions as (

    select
        bad_reviews.rated_date,
        bad_reviews.item_code,
        reason.code as reason_code,
        count(*) as mentions
    from bad_reviews
    cross join lateral unnest(bad_reviews.reason_codes) as reason (code)
    group by 1, 2, 3

)

select * from mentions
