{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ recount_days('rated_date', touched_rating_days()) }}",
        indexes=[{'columns': ['rated_date']}],
    )
}}
-- depends_on: {{ ref('int_ratings_touched') }}
-- The rating counts behind the performance figures and the pain points, per Beijing day, agency, platform,
-- staff member, service item and area code: a month's are the sums of its days, so no mart reads every rating.
-- Incremental: a night counts again, whole, the days of the ratings it rebuilt (int_ratings_touched).
with ratings as (

    select * from {{ ref('int_ratings') }}
    {%- if is_incremental() %}
    where rated_date in ({{ touched_rating_days() }})
    {%- endif %}

),

counts as (

    select
        rated_date,
        org_code,
        platform_code,
        staff_no,
        item_code,
        area_code,
        count(*) filter (where is_effective) as effective_count,
        count(*) filter (where counts_in_scores) as rating_count,
        {%- for level in range(1, 6) %}
        count(*) filter (where counts_in_scores and level_code = {{ level }}) as level_{{ level }}_count,
        {%- endfor %}
        count(*) filter (where is_effective and is_default_rating) as default_rating_count,
        count(*) filter (where counts_in_scores and is_bad_level) as bad_review_count,
        coalesce(sum(level_points) filter (where counts_in_scores), 0) as points_sum
    from ratings
    group by rated_date, org_code, platform_code, staff_no, item_code, area_code

)

select * from counts
