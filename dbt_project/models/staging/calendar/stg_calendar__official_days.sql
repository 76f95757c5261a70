with source as (

    select * from {{ source('calendar', 'official_calendar') }}

),

renamed as (

    select
        day as date_day,
        is_workday,
        is_holiday,
        holiday_name,
        library_version
    from source

)

select * from renamed
