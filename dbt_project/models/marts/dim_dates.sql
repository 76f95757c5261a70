select
    date_day,
    is_workday,
    is_holiday,
    holiday_name,
    calendar_source,
    is_provisional,
    iso_day_of_week,
    month_start,
    workday_seq
from {{ ref('int_calendar_days') }}
