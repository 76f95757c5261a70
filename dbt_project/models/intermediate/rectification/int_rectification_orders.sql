{{
    config(
        materialized='incremental',
        unique_key=['channel', 'evaluation_id'],
        incremental_strategy='delete+insert',
        pre_hook="{{ forget_moved_orders() }}",
        indexes=[{'columns': ['channel', 'evaluation_id'], 'unique': true}],
    )
}}
-- The state of each bad review's work order as night D knows it, from its events (each once, in its latest
-- delivery: int_rectification_events), counting an event only once its time has passed by the end of D.
-- Incremental: a night recomputes the orders moved_orders names, from all their events; the pre-hook first
-- forgets them, so an order whose every event moved away or out of reach goes too.
with events as (

    select * from {{ ref('int_rectification_events') }}
    where event_at < (date '{{ var("night") }}' + 1)::timestamp at time zone 'Asia/Shanghai'
    {%- if is_incremental() %}
        and (channel, evaluation_id) in ({{ moved_orders() }})
    {%- endif %}

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
