{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['period_grain', 'period_start']}],
    )
}}
-- 发布结果: the performance of every entity in each closed month, quarter and year as the night that published
-- it computed it (docs/contract.md §9.4). A period is published by the first night on or after the Nth working
-- day after it ends (var publish_after_working_days); its rows are then appended once and never rewritten
-- (统计结果自动生成、不可更改): a later night's different figures go to performance_restatements.
-- full_refresh=false: a full refresh of the project keeps what was published.
with scored as (

    select * from {{ ref('int_performance_scored') }}
    where period_grain <> 'day'

),

days as (

    select * from {{ ref('int_calendar_days') }}

),

periods as (

    select
        period_grain,
        period_start,
        (period_start + case period_grain
            when 'month' then interval '1 month'
            when 'quarter' then interval '3 months'
            else interval '1 year'
        end - interval '1 day')::date as period_end
    from scored
    group by period_grain, period_start

),

publish_dates as (

    select
        periods.*,
        publish_day.date_day as publish_on
    from periods
    inner join days as last_day on periods.period_end = last_day.date_day
    inner join days as publish_day
        on publish_day.is_workday
        and publish_day.workday_seq = last_day.workday_seq + {{ var('publish_after_working_days') }}

),

-- the periods night D publishes: due by D, and not published by an earlier night
due as (

    select * from publish_dates
    where publish_on <= date '{{ var("night") }}'
    {%- if is_incremental() %}
        and not exists (
            select 1 from {{ this }} as published
            where published.period_grain = publish_dates.period_grain
                and published.period_start = publish_dates.period_start
        )
    {%- endif %}

),

final as (

    select
        scored.entity_kind,
        scored.entity_code,
        scored.entity_name,
        scored.peer_group,
        scored.{{ performance_columns() | join(',\n        scored.') }},
        due.period_end,
        date '{{ var("night") }}' as published_night
    from scored
    inner join due
        on scored.period_grain = due.period_grain
        and scored.period_start = due.period_start

)

select * from final
