-- Every channel's ratings in one shape. SMS replies carry only a case number: agency, item, platform and
-- staff come from the case (docs/contract.md §4.5).
{%- set columns = rating_columns() %}
with pc as (

    select {{ columns | join(', ') }} from {{ ref('stg_pc__evaluations') }}

),

app as (

    select {{ columns | join(', ') }} from {{ ref('stg_app__evaluations') }}

),

hall as (

    select {{ columns | join(', ') }} from {{ ref('stg_hall__evaluations') }}

),

hotline as (

    select {{ columns | join(', ') }} from {{ ref('stg_hotline__evaluations') }}

),

cases as (

    select * from {{ ref('int_cases_deduplicated') }}

),

sms as (

    select
        replies.channel,
        replies.evaluation_id,
        replies.case_no,
        cases.item_code,
        cases.org_code,
        null::text as area_code,
        cases.platform_code,
        cases.staff_no,
        replies.level_code,
        '{}'::text[] as reason_codes,
        null::text as comment_text,
        replies.rater_key,
        replies.rated_at,
        replies.rated_date,
        replies.updated_at,
        false as is_default_rating,
        false as is_withdrawn,
        1 as rating_seq,
        replies.batch_id,
        replies.line_no
    from {{ ref('stg_sms__replies') }} as replies
    left join cases on replies.case_no = cases.case_no

)

select * from pc
union all
select * from app
union all
select * from hall
union all
select * from hotline
union all
select * from sms
