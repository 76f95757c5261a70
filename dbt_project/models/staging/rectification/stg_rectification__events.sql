with source as (

    {{ accepted_rows(source('rectification', 'rectification_events')) }}

),

renamed as (

    select
        ---------- ids
        event_id,
        order_no,
        channel,
        evaluation_id,
        org_code,

        ---------- event
        event_type,
        nullif(category, '') as category,
        -- not a row rule: a malformed date is no date, and the category's own deadline applies
        case when pg_input_is_valid(new_due_date, 'date') then new_due_date::date end as new_due_date,

        ---------- timestamps: ISO-8601 with +08:00
        event_time::timestamptz as event_at,
        (event_time::timestamptz at time zone 'Asia/Shanghai')::date as event_date,

        ---------- lineage
        _batch_id as batch_id,
        _line_no as line_no

    from source

)

select * from renamed
