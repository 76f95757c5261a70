{#- The work orders night D recomputes: those of the events its batches brought new or changed (and the
    order such an event belonged to before), and those of the events timed in the lookback days (an event
    delivered before its time becomes known on its own day). By int_rectification_events' indexes. -#}
{% macro moved_orders() -%}
    {%- set since = "date '" ~ var('night') ~ "' - " ~ var('lookback_days') -%}
    {%- set night = "date '" ~ var('night') ~ "'" -%}
    select moved.channel, moved.evaluation_id
    from {{ ref('int_rectification_events') }} as events
    cross join lateral (
        values (events.channel, events.evaluation_id), (events.replaced_channel, events.replaced_evaluation_id)
    ) as moved (channel, evaluation_id)
    where events.changed_night > {{ since }} and events.changed_night <= {{ night }}
        and moved.channel is not null
    union
    select channel, evaluation_id from {{ ref('int_rectification_events') }}
    where event_date > {{ since }} and event_date <= {{ night }}
{%- endmacro %}
