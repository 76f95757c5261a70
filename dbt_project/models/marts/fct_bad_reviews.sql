{{ config(materialized='view') }}
-- One row per bad review (差评) with its work order, deadlines, status and overdue working days as of the end
-- of night D (docs/contract.md §7). A view: int_bad_reviews keeps every review as of the last night that could change
-- it (a settled review reads the same on any later night), so night D need not rewrite them all.
with bad_reviews as (

    select * from {{ ref('int_bad_reviews') }}

),

-- the workday_seq of every calendar day (one row a day, none missing) in day order, and the night's: a due
-- date's is then an array lookup, by its distance from the first day, cheaper than a join to every review
calendar as (

    select
        min(date_day) as first_day,
        array_agg(workday_seq order by date_day) as workday_seqs,
        max(workday_seq) filter (where date_day = date '{{ var("night") }}') as night_workday_seq
    from {{ ref('int_calendar_days') }}

),

-- Due soon (超期预警, docs/contract.md §7.7): the working days after D up to and including a due date, counted
-- only while the review is on the clock and not closed, the only time anyone can still act on it. A due
-- date on or before D gives 0 or less: minus the overdue working days.
counted as (

    select
        bad_reviews.*,
        case when bad_reviews.status in ('open', 'no_order') and bad_reviews.verified_at is null
            then calendar.workday_seqs[bad_reviews.verification_due_date - calendar.first_day + 1]
                - calendar.night_workday_seq
        end as working_days_to_verification_due,
        case when bad_reviews.status in ('open', 'no_order')
            then calendar.workday_seqs[bad_reviews.close_due_date - calendar.first_day + 1]
                - calendar.night_workday_seq
        end as working_days_to_due
    from bad_reviews
    cross join calendar

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

        ---------- due soon (超期预警) as of the end of night D
        working_days_to_verification_due,
        working_days_to_due,
        -- a due date after D can still count 0 working days (an extension to a rest day): due soon all the same
        coalesce(
            status in ('open', 'no_order')
            and verified_at is null
            and verification_due_date > date '{{ var("night") }}'
            and working_days_to_verification_due <= {{ var('due_soon_working_days') }},
            false
        ) as is_verification_due_soon,
        coalesce(
            status in ('open', 'no_order')
            and not is_overdue
            and close_due_date > date '{{ var("night") }}'
            and working_days_to_due <= {{ var('due_soon_working_days') }},
            false
        ) as is_due_soon,

        calendar_provisional,
        date '{{ var("night") }}' as as_of_night
    from counted

)

select * from final
