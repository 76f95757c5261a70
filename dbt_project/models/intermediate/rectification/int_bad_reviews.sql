-- depends_on: {{ ref('int_ratings_touched') }}, {{ ref('level_points') }}
{{
    config(
        materialized='incremental',
        unique_key='bad_review_key',
        incremental_strategy='delete+insert',
        pre_hook="{{ forget_touched_bad_reviews() }}",
        indexes=[{'columns': ['bad_review_key'], 'unique': true}],
    )
}}
-- One row per bad review (差评): every latest-version rating at a bad level, superseded or not (a follow-up
-- does not cancel the duty to rectify), with its deadlines and where it stands at the end of the night it
-- was computed for (docs/contract.md §7). Struck-out and withdrawn reviews stay for the record, with no due dates,
-- never overdue. fct_bad_reviews shows them as of night D.
-- Incremental: a night recomputes the bad reviews of the ratings it touches (a new version, a work order
-- event, int_ratings_touched) and those whose standing still moves with the night: on the clock and not yet
-- closed, closed with the verification still undecided, or counted on a provisional calendar. Every other
-- row is settled: no later night computes it differently (an operator's change to already published
-- calendar years needs a full refresh).
{#- the rating's columns a review keeps: a settled review carries them, so a night reads them back from it -#}
{%- set rating_columns = [
    'channel', 'evaluation_id', 'case_no', 'item_code', 'org_code', 'area_code', 'platform_code', 'staff_no',
    'level_code',
    'reason_codes', 'rated_at', 'rated_date', 'is_superseded', 'is_default_rating',
] %}
{% if is_incremental() %}

with touched_bad_ratings as (

    -- the touched ratings at a bad level (the pre-hook has forgotten all touched ones), a few thousand a
    -- night: int_ratings' key index finds each
    select ratings.rating_key, ratings.{{ rating_columns | join(', ratings.') }},
        ratings.is_withdrawn, ratings.is_struck_out
    from {{ ref('int_ratings_touched') }} as touched
    inner join {{ ref('level_points') }} as level_points on touched.level_code = level_points.level_code
    inner join {{ ref('int_ratings') }} as ratings
        on ratings.rating_key = touched.channel || ':' || touched.evaluation_id
    where level_points.is_bad_review and ratings.is_bad_level

),

unsettled_reviews as (

    -- the reviews whose standing still moves with the night. Their ratings are not touched (the pre-hook
    -- kept them), so they are as the review has them, neither withdrawn nor struck out (those are settled):
    -- read back from the review, not looked up in int_ratings, which a backlog of this size would scan whole
    select bad_review_key as rating_key, {{ rating_columns | join(', ') }},
        false as is_withdrawn, false as is_struck_out
    from {{ this }}
    where status in ('open', 'no_order')
        or calendar_provisional
        or (status = 'closed' and verified_at is null and verification_due_date > computed_night)

),

bad_ratings as (

    select * from touched_bad_ratings
    union all
    select * from unsettled_reviews

),

{% else %}

with bad_ratings as (

    select rating_key, {{ rating_columns | join(', ') }}, is_withdrawn, is_struck_out
    from {{ ref('int_ratings') }}
    where is_bad_level

),

{% endif %}

orders as (

    select * from {{ ref('int_rectification_orders') }}

),

days as (

    select
        *,
        -- the first provisional (Monday-Friday) day after this one: a deadline counted past it is provisional
        min(case when is_provisional then date_day end) over (
            order by date_day rows between 1 following and unbounded following
        ) as next_provisional_day
    from {{ ref('int_calendar_days') }}

),

workdays as (

    select * from days where is_workday

),

deadlines as (

    select * from {{ ref('rectification_deadlines') }}

),

reviews as (

    select
        bad_ratings.*,
        orders.order_no,
        orders.category,
        coalesce(orders.category, '{{ var("unclassified_category") }}') as deadline_category,
        orders.extended_due_date,
        orders.verified_at,
        orders.rectified_at,
        orders.closed_at,
        (orders.verified_at at time zone 'Asia/Shanghai')::date as verified_date,
        (orders.closed_at at time zone 'Asia/Shanghai')::date as closed_date,
        case
            when bad_ratings.is_withdrawn then 'withdrawn'
            when bad_ratings.is_struck_out then 'struck_out'
            when orders.closed_at is not null then 'closed'
            when orders.order_no is not null then 'open'
            else 'no_order'
        end as status
    from bad_ratings
    left join orders
        on bad_ratings.channel = orders.channel and bad_ratings.evaluation_id = orders.evaluation_id

),

-- "Within N working days" ends at the close of the Nth working day after the day of the review.
due as (

    select
        reviews.*,
        rated_day.next_provisional_day,
        verification_due.date_day as verification_due_date,
        case
            when reviews.deadline_category = 'complex' and reviews.extended_due_date is not null
                then reviews.extended_due_date
            else close_due.date_day
        end as close_due_date
    from reviews
    left join days as rated_day on reviews.rated_date = rated_day.date_day
    left join deadlines on reviews.deadline_category = deadlines.category
    left join workdays as verification_due
        on verification_due.workday_seq = rated_day.workday_seq + {{ var('verification_working_days') }}
    left join workdays as close_due
        on close_due.workday_seq = rated_day.workday_seq + deadlines.close_working_days

),

judged as (

    select
        *,
        status in ('open', 'closed', 'no_order') as is_on_the_clock,
        closed_date > close_due_date
            or (closed_date is null and close_due_date <= date '{{ var("night") }}') as is_late
    from due

),

final as (

    select
        ---------- ids
        judged.rating_key as bad_review_key,
        judged.channel,
        judged.evaluation_id,
        judged.case_no,
        judged.item_code,
        judged.org_code,
        judged.area_code,
        judged.platform_code,
        judged.staff_no,
        judged.order_no,

        ---------- the review
        judged.level_code,
        judged.reason_codes,
        judged.rated_at,
        judged.rated_date,
        judged.is_superseded,
        judged.is_default_rating,

        ---------- the work order
        judged.status,
        judged.category,
        case when judged.is_on_the_clock then judged.deadline_category end as deadline_category,
        judged.is_on_the_clock and judged.deadline_category = 'complex'
            and judged.extended_due_date is not null as is_extended,
        judged.verified_at,
        judged.rectified_at,
        judged.closed_at,

        ---------- deadlines
        case when judged.is_on_the_clock then judged.verification_due_date end as verification_due_date,
        case when judged.is_on_the_clock then judged.close_due_date end as close_due_date,
        case when judged.is_on_the_clock
            and (judged.verified_date is not null or judged.verification_due_date <= date '{{ var("night") }}')
            then coalesce(judged.verified_date <= judged.verification_due_date, false)
        end as is_verified_on_time,
        case when judged.is_on_the_clock
            and (judged.closed_date is not null or judged.close_due_date <= date '{{ var("night") }}')
            then coalesce(judged.closed_date <= judged.close_due_date, false)
        end as is_closed_on_time,

        ---------- as of the end of night D
        judged.is_on_the_clock and coalesce(judged.is_late, false) as is_overdue,
        case when judged.is_on_the_clock and judged.is_late
            then overdue_end.workday_seq - close_due.workday_seq
            else 0
        end as overdue_working_days,
        judged.is_on_the_clock and coalesce(judged.next_provisional_day <= greatest(
            judged.verification_due_date,
            judged.close_due_date,
            case when judged.is_late then coalesce(judged.closed_date, date '{{ var("night") }}') end
        ), false) as calendar_provisional,
        date '{{ var("night") }}' as computed_night

    from judged
    left join days as close_due on judged.close_due_date = close_due.date_day
    left join days as overdue_end
        on coalesce(judged.closed_date, date '{{ var("night") }}') = overdue_end.date_day

)

select * from final
