-- depends_on: {{ ref('int_ratings_touched') }}
{{
    config(
        materialized='incremental',
        unique_key='rating_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['rating_key'], 'unique': true},
            {'columns': ['case_no']},
            {'columns': ['rated_date']},
        ],
    )
}}
-- One row per rating as its latest version, effective or not, with the flags that decide whether it
-- counts (docs/contract.md §8.1): withdrawn by its channel, struck out on appeal, superseded by a follow-up (追评,
-- seq 2) on the same case in the same channel, a system default. fct_ratings shows it; the bad reviews,
-- the evaluation rate and the daily counts read it here, by its indexes.
-- Incremental: a night rebuilds the ratings it touches (int_ratings_touched, which holds every rating on
-- their cases, since a follow-up supersedes); the flags are computed for those alone.

with latest_versions as (

    select * from {{ ref('int_ratings_deduplicated') }}

),

{% if is_incremental() %}

-- each touched rating by its index (lateral, LIMIT 1: not flattened): as a semi-join the planner would
-- hash the whole history for the night's million
ratings as (

    select latest.*
    from {{ ref('int_ratings_touched') }} as touched
    cross join lateral (
        select * from {{ ref('int_ratings_deduplicated') }} as versions
        where versions.channel = touched.channel and versions.evaluation_id = touched.evaluation_id
        limit 1
    ) as latest

),

{% else %}

ratings as (

    select * from latest_versions

),

{% endif %}

orders as (

    select * from {{ ref('int_rectification_orders') }}

),

level_points as (

    select * from {{ ref('level_points') }}

),

flagged as (

    select
        ratings.*,
        level_points.points as level_points,
        level_points.is_bad_review as is_bad_level,
        orders.struck_out_at is not null as is_struck_out,
        -- a window, not a join to the follow-ups: the planner cannot misjudge it into a nested loop;
        -- every rating of a touched case is here, so the window sees the whole case
        ratings.rating_seq = 1 and ratings.case_no is not null
            and bool_or(ratings.rating_seq = 2) over (partition by ratings.channel, ratings.case_no)
            as is_superseded
    from ratings
    inner join level_points on ratings.level_code = level_points.level_code
    left join orders
        on ratings.channel = orders.channel and ratings.evaluation_id = orders.evaluation_id

),

classified as (

    select
        *,
        not is_withdrawn and not is_struck_out and not is_superseded as is_effective,
        not is_withdrawn and not is_struck_out and not is_superseded and not is_default_rating
            as counts_in_scores
    from flagged

),

final as (

    select
        ---------- ids
        ratings.channel || ':' || ratings.evaluation_id as rating_key,
        ratings.channel,
        ratings.evaluation_id,
        ratings.case_no,
        ratings.item_code,
        ratings.org_code,
        ratings.area_code,
        ratings.platform_code,
        ratings.staff_no,
        ratings.rater_key,

        ---------- levels
        ratings.level_code,
        ratings.level_points,
        ratings.reason_codes,
        ratings.comment_text is not null and btrim(ratings.comment_text) <> '' as has_comment,

        ---------- timestamps
        ratings.rated_at,
        ratings.rated_date,
        date_trunc('month', ratings.rated_date)::date as rated_month,
        ratings.updated_at,

        ---------- flags
        ratings.rating_seq,
        ratings.is_default_rating,
        ratings.is_withdrawn,
        ratings.is_struck_out,
        ratings.is_superseded,
        ratings.is_effective,
        ratings.counts_in_scores,
        ratings.is_bad_level

    from classified as ratings

)

select * from final
