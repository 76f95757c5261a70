{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='append_new_columns',
    )
}}
-- 重述记录: every published figure a later night computes differently (docs/contract.md §9.4): a late rating, an
-- appeal upheld, a deadline decided once the calendar is published. A log, appended and never rewritten: a row
-- each time a figure's current value moves away from the value last recorded for it (at first the published
-- one), including back to it. The latest row of a figure holds its current value. An entity row that was not
-- published, or is gone now, has null values on the missing side.
-- Re-running night D, or an earlier night, adds nothing for a figure already recorded on D or later.
-- full_refresh=false: a full refresh of the project keeps the record.
{%- set figures = performance_columns()[2:] %}
with published as (

    select * from {{ ref('published_performance') }}

),

published_periods as (

    select period_grain, period_start, min(published_night) as published_night
    from published
    group by period_grain, period_start

),

current_rows as (

    select scored.*
    from {{ ref('int_performance_scored') }} as scored
    inner join published_periods
        on scored.period_grain = published_periods.period_grain
        and scored.period_start = published_periods.period_start

),

{% if is_incremental() %}
recorded as (

    -- each figure's latest record
    select distinct on (entity_kind, entity_code, period_grain, period_start, figure)
        entity_kind, entity_code, period_grain, period_start, figure, current_value, first_seen_night
    from {{ this }}
    order by entity_kind, entity_code, period_grain, period_start, figure, first_seen_night desc

),

recorded_rows as (

    select distinct entity_kind, entity_code, period_grain, period_start
    from recorded

),
{% endif %}

-- the rows that differ from their published row as a whole, or have a record already (a figure may be
-- moving back): only those are taken apart figure by figure
compared_rows as (

    select
        coalesce(published.entity_kind, current_rows.entity_kind) as entity_kind,
        coalesce(published.entity_code, current_rows.entity_code) as entity_code,
        coalesce(current_rows.entity_name, published.entity_name) as entity_name,
        coalesce(published.period_grain, current_rows.period_grain) as period_grain,
        coalesce(published.period_start, current_rows.period_start) as period_start,
        published_periods.published_night,
        {%- for figure in figures %}
        published.{{ figure }} as published_{{ figure }},
        current_rows.{{ figure }} as current_{{ figure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from published
    full outer join current_rows
        on published.entity_kind = current_rows.entity_kind
        and published.entity_code = current_rows.entity_code
        and published.period_grain = current_rows.period_grain
        and published.period_start = current_rows.period_start
    inner join published_periods
        on coalesce(published.period_grain, current_rows.period_grain) = published_periods.period_grain
        and coalesce(published.period_start, current_rows.period_start) = published_periods.period_start
    {%- if is_incremental() %}
    left join recorded_rows
        on coalesce(published.entity_kind, current_rows.entity_kind) = recorded_rows.entity_kind
        and coalesce(published.entity_code, current_rows.entity_code) = recorded_rows.entity_code
        and coalesce(published.period_grain, current_rows.period_grain) = recorded_rows.period_grain
        and coalesce(published.period_start, current_rows.period_start) = recorded_rows.period_start
    {%- endif %}
    where (published.{{ figures | join(', published.') }})
        is distinct from (current_rows.{{ figures | join(', current_rows.') }})
        {%- if is_incremental() %}
        or recorded_rows.entity_kind is not null
        {%- endif %}

),

figure_values as (

    select
        compared_rows.entity_kind,
        compared_rows.entity_code,
        compared_rows.entity_name,
        compared_rows.period_grain,
        compared_rows.period_start,
        compared_rows.published_night,
        values_.figure,
        values_.published_value,
        values_.current_value
    from compared_rows
    cross join lateral (
        values
        {%- for figure in figures %}
            {%- if figure == 'is_bottom' %}
            ('{{ figure }}', published_{{ figure }}::integer::numeric, current_{{ figure }}::integer::numeric)
            {%- else %}
            ('{{ figure }}', published_{{ figure }}::numeric, current_{{ figure }}::numeric)
            {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    ) as values_ (figure, published_value, current_value)

),

restated as (

    select figure_values.*
    from figure_values
    {%- if is_incremental() %}
    left join recorded
        on figure_values.entity_kind = recorded.entity_kind
        and figure_values.entity_code = recorded.entity_code
        and figure_values.period_grain = recorded.period_grain
        and figure_values.period_start = recorded.period_start
        and figure_values.figure = recorded.figure
    where case
            when recorded.figure is null then figure_values.current_value is distinct from figure_values.published_value
            else figure_values.current_value is distinct from recorded.current_value
                and recorded.first_seen_night < date '{{ var("night") }}'
        end
    {%- else %}
    where figure_values.current_value is distinct from figure_values.published_value
    {%- endif %}

),

final as (

    select
        entity_kind,
        entity_code,
        entity_name,
        period_grain,
        period_start,
        figure,
        published_value,
        current_value,
        published_night,
        date '{{ var("night") }}' as first_seen_night
    from restated

)

select * from final
