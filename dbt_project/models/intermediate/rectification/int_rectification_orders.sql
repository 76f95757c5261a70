{{ config(materialized='table', indexes=[{'columns': ['channel', 'evaluation_id'], 'unique': true}]) }}
-- The state of each bad review's work order as night D knows it, from events in any order, late or
-- repeated: an event counts once (by event_id) and only once its time has passed by the end of D.
with events as (

    select distinct on (event_id) *
    from {{ ref('stg_rectification__events') }}
    where event_at < (date '{{ var("night") }}' + 1)::timestamp at time zone 'Asia/Shanghai'
    order by event_id, batch_id desc, line_no desc

),

orders as (

    select
        channel,
        evaluation_id,
        min(order_no) as order_no,
        min(event_at) filter (where event_type = 'opened') as opened_at,
        min(event_at) filter (where event_type = 'verified') as verified_at,
        -- the category of the latest classification, and the due date of the latest extension
        (array_agg(category order by event_at desc, event_id desc)
            filter (where event_type = 'classified' and category is not null))[1] as category,
        (array_agg(new_due_date order by event_at desc, event_id desc)
            filter (where event_type = 'extended' and new_due_date is not null))[1] as extended_due_date,
        min(event_at) filter (where event_type = 'rectified') as rectified_at,
        min(event_at) filter (where event_type = 'feedback') as closed_at,
        min(event_at) filter (where event_type = 'appeal_upheld') as struck_out_at,
        count(*) as event_count
    from events
    group by channel, evaluation_id

)

select * from orders
