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
        util.to_date_or_null(new_due_date) as new_due_date,

        ---------- timestamps: ISO-8601 with +08:00 (casts that cannot fail: util.sql)
        util.to_timestamptz_or_null(event_time) as event_at,
        (util.to_timestamptz_or_null(event_time) at time zone 'Asia/Shanghai')::date as event_date,

        ---------- lineage
        _batch_id as batch_id,
        _line_no as line_no

    from source

)

select * from renamed
