{{
    config(
        materialized='table',
        post_hook='analyze {{ this }}',
    )
}}
-- The ratings night D must rebuild in the incremental models: those whose latest version its batches
-- delivered (night_batch_ids), those whose work order night D recomputes (moved_orders: an upheld appeal
-- strikes a rating out), SMS replies whose case a snapshot lists tonight, and every rating on the same
-- case in the same channel as any of these (a follow-up supersedes).
-- Small: it follows the night; int_ratings, fct_ratings, int_cases_rated and the daily counts take their work
-- from it, and its statistics (analyze) steer their joins into the indexes.
-- Empty when no model reads it incrementally (a first night, a full refresh): each builds whole, and a
-- first night would write all its ratings here again for nothing.
{%- set night_batch_ids = night_batch_ids() %}
with moved as (

    -- the ratings whose work order night D recomputes
    {{ moved_orders() }}

),

relisted as (

    -- SMS replies whose case a snapshot lists tonight: they take its agency, item, platform and staff
    select channel, evaluation_id, case_no, rated_date, level_code
    from {{ ref('int_ratings_deduplicated') }}
    where channel = 'sms' and case_no in ({{ listed_case_nos() }})

),

-- a rating may be here more than once: same_case takes each once
night_ratings as (

    select channel, evaluation_id, case_no, rated_date, level_code
    from {{ ref('int_ratings_deduplicated') }}
    where batch_id in ({{ night_batch_ids }})
    union all
    -- the table itself, not a CTE read twice: PostgreSQL would materialize all of it
    select channel, evaluation_id, case_no, rated_date, level_code
    from {{ ref('int_ratings_deduplicated') }}
    where (channel, evaluation_id) in (select channel, evaluation_id from moved)
    union all
    select channel, evaluation_id, case_no, rated_date, level_code from relisted

),

-- every rating on their cases, each once (a rating is on its own case); a night rating with a case is one
same_case as (

    select ratings.channel, ratings.evaluation_id, ratings.case_no, ratings.rated_date, ratings.level_code
    from {{ ref('int_ratings_deduplicated') }} as ratings
    inner join (select distinct channel, case_no from night_ratings where case_no is not null) as cases
        on ratings.channel = cases.channel and ratings.case_no = cases.case_no

),

-- union all: the two parts cannot share a rating, so the million rows are not deduplicated again
touched as (

    select channel, evaluation_id, case_no, rated_date, level_code from same_case
    union all
    -- a rating without a case number has no other rating to bring
    select distinct channel, evaluation_id, case_no, rated_date, level_code from night_ratings
    where case_no is null

)

select * from touched
{%- if not read_incrementally_downstream() %}
where false
{%- endif %}
