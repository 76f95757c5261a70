-- depends_on: {{ ref('int_ratings_unioned') }}, {{ ref('stg_rectification__events') }}
-- One row per rating as its latest version, effective or not, with the flags that decide whether it
-- counts. Incremental: a night rebuilds the ratings delivered within the lookback, the ratings on their
-- cases (a follow-up supersedes), and the ratings whose work order moved (an appeal strikes out).
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

with ratings as (

    select * from {{ ref('int_ratings_classified') }}

),

{% if is_incremental() %}

recent_batches as (

    select batch_id
    from {{ source('audit', 'accepted_batches') }}
    where night > date '{{ var("night") }}' - {{ var('lookback_days') }}

),

delivered as (

    select channel, evaluation_id, case_no
    from {{ ref('int_ratings_unioned') }}
    where batch_id in (select batch_id from recent_batches)

),

touched as (

    select channel, evaluation_id from delivered
    union
    select earlier.channel, earlier.evaluation_id
    from {{ this }} as earlier
    inner join delivered on earlier.channel = delivered.channel and earlier.case_no = delivered.case_no
    union
    select channel, evaluation_id
    from {{ ref('stg_rectification__events') }}
    where batch_id in (select batch_id from recent_batches)
        or event_date > date '{{ var("night") }}' - {{ var('lookback_days') }}

),

{% endif %}

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

    from ratings
    {% if is_incremental() %}
    where (ratings.channel, ratings.evaluation_id) in (select channel, evaluation_id from touched)
    {% endif %}

)

select * from final
