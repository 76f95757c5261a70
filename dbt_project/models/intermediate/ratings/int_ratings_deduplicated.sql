{{
    config(
        materialized='incremental',
        unique_key=['channel', 'evaluation_id'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['channel', 'evaluation_id'], 'unique': true},
            {'columns': ['channel', 'case_no']},
            {'columns': ['batch_id']},
        ],
    )
}}
-- Every channel may deliver the same rating again (overlapping pages, re-sent files, updated rows):
-- the latest version of each (channel, evaluation id) wins. A rating time after the end of D+1 (and the
-- clock skew the row rules allow) is in the future for night D (docs/contract.md §2.3): the rules quarantine it, and a
-- backfill of an earlier night does not read later batches at all (accepted_rows).
-- Incremental: a night ranks the versions its batches bring (night_batch_ids) against the version kept so
-- far, so its cost follows the night, not the history. A full refresh ranks every version.
-- A version that moves its rating to another day keeps the day it leaves (replaced_rated_date): the night
-- that lands it counts that day again too (touched_rating_days).
-- depends_on: {{ ref('stg_master__cases') }}, {{ ref('int_cases_deduplicated') }}
{%- set columns = rating_columns() %}
with delivered as (

    select {{ columns | join(', ') }}
    from {{ ref('int_ratings_unioned') }}
    where rated_at < (date '{{ var("night") }}' + 2)::timestamp at time zone 'Asia/Shanghai'
        + interval '{{ var("clock_skew_minutes") }} minutes'
    {%- if is_incremental() %}
        and batch_id in ({{ night_batch_ids() }})
    {%- endif %}

),

{% if is_incremental() %}

kept as (

    select {{ columns | join(', ') }}, replaced_rated_date, true as is_kept
    from {{ this }}
    where (channel, evaluation_id) in (select channel, evaluation_id from delivered)

),

-- An SMS reply names only its case: when a snapshot lists the case tonight, the reply kept so far takes
-- the agency, item, platform and staff of that listing (int_cases_deduplicated is already tonight's).
relisted as (

    select
        {%- for column in columns %}
        {{ 'cases.' if column in ('item_code', 'org_code', 'platform_code', 'staff_no') else 'replies.' }}{{ column }}
        {{- ',' }}
        {%- endfor %}
        replies.replaced_rated_date,
        true as is_kept
    from {{ this }} as replies
    inner join {{ ref('int_cases_deduplicated') }} as cases on replies.case_no = cases.case_no
    where replies.channel = 'sms' and replies.case_no in ({{ listed_case_nos() }})

),

versions as (

    select *, null::date as replaced_rated_date, false as is_kept from delivered
    union all
    select * from kept
    where not (channel = 'sms' and case_no in (select case_no from relisted))
    union all
    select * from relisted

),

{% else %}

versions as (

    select *, null::date as replaced_rated_date, false as is_kept from delivered

),

{% endif %}

ranked as (

    select
        *,
        row_number() over (
            partition by channel, evaluation_id
            -- a version delivered again (the night run again) yields to its kept copy, which knows what it
            -- replaced; a version with no readable update time never beats one that has it
            order by updated_at desc nulls last, batch_id desc, line_no desc, is_kept desc
        ) as version_rank,
        max(rated_date) filter (where is_kept) over (partition by channel, evaluation_id) as kept_rated_date
    from versions

)

select
    {{ columns | join(', ') }},
    -- the day the replaced version counted on, when the new one moved to another: the daily counts redo it
    case
        when is_kept then replaced_rated_date
        when kept_rated_date <> rated_date then kept_rated_date
    end as replaced_rated_date
from ranked
where version_rank = 1
