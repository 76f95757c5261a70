-- 超期预警清单: as of night D, every bad review still open (open, or no work order yet) that is overdue or due
-- soon, to close or to verify (docs/contract.md §7.7). The list a supervision office works from each morning,
-- per agency. A review closed late is overdue too, but nothing is left to act on: it is not listed.
with bad_reviews as (

    select * from {{ ref('fct_bad_reviews') }}
    where status in ('open', 'no_order')

),

agencies as (

    select * from {{ ref('dim_agencies') }}

),

items as (

    select * from {{ ref('dim_service_items') }}

),

channels as (

    select * from {{ ref('dim_channels') }}

),

watched as (

    select * from bad_reviews
    where is_overdue or is_due_soon or is_verification_due_soon

),

final as (

    select
        watched.as_of_night,
        watched.bad_review_key,
        watched.org_code,
        agencies.org_name,
        watched.item_code,
        items.item_name,
        watched.channel,
        channels.channel_name,
        channels.channel_name_zh,
        watched.status,
        watched.deadline_category,
        watched.order_no,
        watched.rated_date,
        watched.verification_due_date,
        watched.close_due_date,
        watched.working_days_to_verification_due,
        watched.working_days_to_due,
        watched.is_verification_due_soon,
        watched.is_due_soon,
        watched.is_overdue,
        watched.overdue_working_days,
        watched.calendar_provisional,
        -- the most pressing first: past the close deadline, then close due soon, then verification due soon
        case
            when watched.is_overdue then '已逾期'
            when watched.is_due_soon then '即将到期'
            else '待核实'
        end as warning
    from watched
    left join agencies on watched.org_code = agencies.org_code
    left join items on watched.item_code = items.item_code
    left join channels on watched.channel = channels.channel

)

select * from final
