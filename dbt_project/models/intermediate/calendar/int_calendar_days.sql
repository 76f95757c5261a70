-- One row per day. Working days follow the operators' overrides, then the official calendar with its
-- make-up days (调休), then Monday-Friday, which marks the day provisional. workday_seq numbers the working
-- days, so "the Nth working day after d" is the working day numbered workday_seq(d) + N.
with days as (

    select generate_series(
        date '{{ var("calendar_start") }}', date '{{ var("calendar_end") }}', interval '1 day'
    )::date as date_day

),

official as (

    select * from {{ ref('stg_calendar__official_days') }}

),

overrides as (

    select * from {{ ref('calendar_overrides') }}

),

classified as (

    select
        days.date_day,
        coalesce(overrides.is_workday, official.is_workday, extract(isodow from days.date_day) < 6)
            as is_workday,
        coalesce(official.is_holiday, false) as is_holiday,
        official.holiday_name,
        case
            when overrides.date_day is not null then 'override'
            when official.date_day is not null then 'official'
            else 'weekday_rule'
        end as calendar_source,
        overrides.date_day is null and official.date_day is null as is_provisional,
        extract(isodow from days.date_day)::integer as iso_day_of_week,
        date_trunc('month', days.date_day)::date as month_start
    from days
    left join official on days.date_day = official.date_day
    left join overrides on days.date_day = overrides.date_day

),

numbered as (

    select
        *,
        count(*) filter (where is_workday) over (order by date_day)::integer as workday_seq
    from classified

)

select * from numbered
