{{ config(materialized='table') }}
-- Completed cases (办件) and whether anyone rated them: the evaluation rate's (主动评价率) denominator and
-- numerator. A case counts in the period of its own completed_at, by its own agency, platform and staff;
-- it is rated when a rating in any channel names it that is not a system default, withdrawn or struck out.
-- A table: the three performance marts read it, and as a view each would rebuild it from every case.
with cases as (

    select * from {{ ref('int_cases_deduplicated') }}
    where completed_date is not null

),

rated_cases as (

    select distinct case_no
    from {{ ref('fct_ratings') }}
    where not is_default_rating and not is_withdrawn and not is_struck_out

),

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
