{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['channel', 'evaluation_id']},
            {'columns': ['changed_night']},
            {'columns': ['event_date']},
        ],
    )
}}
-- Each work-order event once, as its latest delivery has it: events come late, out of order and again
-- (every load reads weeks back), idempotent by event_id (docs/contract.md §6.1). changed_night is the night whose
-- batches brought the event new or changed, with the order it belonged to before (replaced_*) when a new
-- version moved it to another: the orders to recompute (moved_orders) are found by it, so an event read
-- again unchanged costs nothing. A full refresh takes every event's latest delivery and the night of it.
-- Incremental: a night compares the events its batches bring against the versions kept so far.
with delivered as (

    select distinct on (event_id) *
    from {{ ref('stg_rectification__events') }}
    {%- if is_incremental() %}
    where batch_id in ({{ night_batch_ids() }})
    {%- endif %}
    order by event_id, batch_id desc, line_no desc

),

{% if is_incremental() %}

changed as (

    select
        delivered.*,
        date '{{ var("night") }}' as changed_night,
        kept.channel as replaced_channel,
        kept.evaluation_id as replaced_evaluation_id
    from delivered
    left join {{ this }} as kept on delivered.event_id = kept.event_id
    where kept.event_id is null
        or (
            (delivered.batch_id, delivered.line_no) > (kept.batch_id, kept.line_no)
            and (
                delivered.order_no, delivered.channel, delivered.evaluation_id, delivered.org_code,
                delivered.event_type, delivered.category, delivered.new_due_date, delivered.event_at
            ) is distinct from (
                kept.order_no, kept.channel, kept.evaluation_id, kept.org_code,
                kept.event_type, kept.category, kept.new_due_date, kept.event_at
            )
        )

),

{% else %}

changed as (

    select
        delivered.*,
        batches.night as changed_night,
        null::text as replaced_channel,
        null::text as replaced_evaluation_id
    from delivered
    inner join {{ source('audit', 'accepted_batches') }} as batches on delivered.batch_id = batches.batch_id

),

{% endif %}

final as (

    select
        ---------- ids
        event_id,
        order_no,
        channel,
        evaluation_id,
        org_code,

        ---------- event
        event_type,
        category,
        new_due_date,
        event_at,
        event_date,

        ---------- lineage
        changed_night,
        replaced_channel,
        replaced_evaluation_id,
        batch_id,
        line_no

    from changed

)

select * from final
