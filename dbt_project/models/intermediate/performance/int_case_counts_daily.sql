{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ recount_days('completed_date', touched_case_days()) }}",
        indexes=[{'columns': ['completed_date']}],
    )
}}
-- depends_on: {{ ref('int_ratings_touched') }}, {{ ref('stg_master__cases') }}
-- Cases completed and rated per Beijing day, agency, platform, staff member and service item: the evaluation rate's
-- counts, summed by the marts. Incremental: a night counts again the days of the cases it redid.
with cases as (

    select * from {{ ref('int_cases_rated') }}
    {%- if is_incremental() %}
    where completed_date in ({{ touched_case_days() }})
    {%- endif %}

),

counts as (

    select
        completed_date,
        org_code,
        platform_code,
        staff_no,
        item_code,
        count(*) as cases_completed,
        count(*) filter (where is_rated) as cases_rated
    from cases
    group by completed_date, org_code, platform_code, staff_no, item_code

)

select * from counts
