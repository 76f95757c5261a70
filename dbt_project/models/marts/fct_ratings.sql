{{ config(materialized='view') }}
-- One row per rating as its latest version, effective or not, with the flags that decide whether it
-- counts (docs/contract.md §8.1), as BI reads them. A view: int_ratings keeps them, incrementally and indexed
-- by key, case and day, and a second copy of a million ratings a night would buy BI nothing.
with ratings as (

    select * from {{ ref('int_ratings') }}

),

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
