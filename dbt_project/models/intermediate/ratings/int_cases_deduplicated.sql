{{
    config(
        materialized='incremental',
        unique_key='case_no',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['case_no'], 'unique': true},
            {'columns': ['batch_id']},
        ],
    )
}}
-- A case (办件) may be listed by more than one snapshot: the latest listing describes it.
-- Incremental: a night weighs the listings its batches bring against the listing kept so far.
-- A listing that corrects the case's completed date keeps the date it leaves (replaced_completed_date): the
-- night that lands it counts that day again too (touched_case_days).
{%- set columns = [
    'case_no', 'item_code', 'org_code', 'platform_code', 'staff_no', 'applicant_type', 'submitted_at',
    'completed_at', 'completed_date', 'snapshot_date', 'batch_id', 'line_no',
] %}
with listed as (

    select {{ columns | join(', ') }}, null::date as replaced_completed_date, false as is_kept
    from {{ ref('stg_master__cases') }}
    {%- if is_incremental() %}
    where batch_id in ({{ night_batch_ids() }})
    {%- endif %}

),

{% if is_incremental() %}

listings as (

    select * from listed
    union all
    select kept.*
    from listed
    -- One lookup by the case index per listing (LIMIT keeps the subquery from being flattened into a join):
    -- planned as a join, the whole kept table would be scanned and hashed every night. A case listed twice
    -- tonight brings its kept listing twice; ranking keeps one.
    cross join lateral (
        select {{ columns | join(', ') }}, replaced_completed_date, true as is_kept
        from {{ this }} as kept
        where kept.case_no = listed.case_no
        limit 1
    ) as kept

),

{% else %}

listings as (

    select * from listed

),

{% endif %}

ranked as (

    select
        *,
        row_number() over (
            partition by case_no
            -- a listing read again (the night run again) yields to its kept copy, which knows what it replaced
            order by snapshot_date desc, batch_id desc, line_no desc, is_kept desc
        ) as listing_rank,
        max(completed_date) filter (where is_kept) over (partition by case_no) as kept_completed_date
    from listings

)

select
    {{ columns | join(', ') }},
    case
        when is_kept then replaced_completed_date
        -- a listing with no completed date takes the case out of its day
        when completed_date is distinct from kept_completed_date then kept_completed_date
    end as replaced_completed_date
from ranked
where listing_rank = 1
