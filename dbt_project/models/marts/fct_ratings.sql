-- depends_on: {{ ref('int_ratings_touched') }}
-- One row per rating as its latest version, effective or not, with the flags that decide whether it
-- counts (docs/contract.md §8.1): the ratings of int_ratings, as BI reads them.
-- Incremental: a night copies the ratings int_ratings rebuilt tonight (int_ratings_touched).
{{
    config(
        materialized='incremental',
        unique_key='rating_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['case_no']},
            {'columns': ['rated_date']},
        ],
    )
}}

{% if is_incremental() %}

-- each touched rating by int_ratings' key index (lateral, LIMIT 1: not flattened): as a semi-join the
-- planner would hash the whole history for the night's million
with ratings as (

    select rebuilt.*
    from {{ ref('int_ratings_touched') }} as touched
    cross join lateral (
        select * from {{ ref('int_ratings') }} as ratings
        where ratings.rating_key = touched.channel || ':' || touched.evaluation_id
        limit 1
    ) as rebuilt

),

{% else %}

with ratings as (

    select * from {{ ref('int_ratings') }}

),

{% endif %}

final as (

    select
        ---------- ids
        rating_key,
        channel,
        evaluation_id,
        case_no,
        item_code,
        org_code,
        area_code,
        platform_code,
        staff_no,
        rater_key,

        ---------- levels
        level_code,
        level_points,
        reason_codes,
        has_comment,

        ---------- timestamps
        rated_at,
        rated_date,
        rated_month,
        updated_at,

        ---------- flags
        rating_seq,
        is_default_rating,
        is_withdrawn,
        is_struck_out,
        is_superseded,
        is_effective,
        counts_in_scores,
        is_bad_level

    from ratings

)

select * from final
