{{
    config(
        materialized='incremental',
        unique_key='case_no',
        incremental_strategy='delete+insert',
        pre_hook="{{ forget_uncompleted_cases() }}",
        indexes=[
            {'columns': ['case_no'], 'unique': true},
            {'columns': ['completed_date']},
        ],
    )
}}
-- depends_on: {{ ref('int_ratings_touched') }}, {{ ref('stg_master__cases') }}
-- Completed cases (办件) and whether anyone rated them: the evaluation rate's (主动评价率) denominator and
-- numerator. A case counts in the period of its own completed_at, by its own agency, platform and staff;
-- it is rated when a rating in any channel names it that is not a system default, withdrawn or struck out.
-- Incremental: a night redoes the cases its snapshots list and the cases of the ratings it touches.
{% if is_incremental() %}

-- A night touches a million cases of tens of millions: the planner would hash-join the whole history to
-- find them. Most are the night's own snapshot, which the batch index reads in order; the others (cases of
-- the ratings it touches, listed on earlier nights) are looked up by index one by one (LIMIT and OFFSET 0
-- keep the lookups from being flattened back into such joins). Taken in the snapshot's order, the cases'
-- lookups into int_ratings follow its case index in order too, which hash order would scatter.
with cases as (

    select * from {{ ref('int_cases_deduplicated') }}
    where batch_id in ({{ night_batch_ids() }}) and completed_date is not null
    union all
    select listed.*
    from ({{ cases_listed_before() }}) as listed_before
    cross join lateral (
        select * from {{ ref('int_cases_deduplicated') }} as listed
        where listed.case_no = listed_before.case_no and listed.completed_date is not null
        limit 1
    ) as listed

),

rated_cases as (

    select case_no
    from cases
    where exists (
        select 1 from {{ ref('int_ratings') }} as ratings
        where ratings.case_no = cases.case_no
            and not ratings.is_default_rating and not ratings.is_withdrawn and not ratings.is_struck_out
        offset 0
    )

),

{% else %}

with cases as (

    select * from {{ ref('int_cases_deduplicated') }}
    where completed_date is not null

),

rated_cases as (

    select distinct case_no
    from {{ ref('int_ratings') }}
    where not is_default_rating and not is_withdrawn and not is_struck_out

),

{% endif %}

final as (

    select
        cases.case_no,
        cases.item_code,
        cases.org_code,
        cases.platform_code,
        cases.staff_no,
        cases.completed_at,
        cases.completed_date,
        rated_cases.case_no is not null as is_rated
    from cases
    left join rated_cases on cases.case_no = rated_cases.case_no

)

select * from final
