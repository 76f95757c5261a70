{{ config(materialized='view') }}
-- One row per bad review (差评) with its work order, deadlines, status and overdue working days as of the end
-- of night D (docs/contract.md §7). A view: int_bad_reviews keeps every review as of the last night that could change
-- it (a settled review reads the same on any later night), so night D need not rewrite them all.
with bad_reviews as (

    select * from {{ ref('int_bad_reviews') }}

),

final as (

    select
        bad_review_key,
        channel,
        evaluation_id,
        case_no,
        item_code,
        org_code,
        platform_code,
        staff_no,
        order_no,
        level_code,
        reason_codes,
        rated_at,
        rated_date,
        is_superseded,
        is_default_rating,
        status,
        category,
        deadline_category,
        is_extended,
        verified_at,
        rectified_at,
        closed_at,
        verification_due_date,
        close_due_date,
        is_verified_on_time,
        is_closed_on_time,
        is_overdue,
        overdue_working_days,
        calendar_provisional,
        date '{{ var("night") }}' as as_of_night
    from bad_reviews

)

select * from final
