with source as (

    {{ accepted_rows(source('master', 'master_service_items')) }}

),

renamed as (

    select
        ---------- ids
        item_code,
        org_code,

        ---------- attributes
        item_name,
        case_type,
        util.to_integer_or_null(promised_days) as promised_days,

        ---------- lineage
        util.to_date_or_null(snapshot_date) as snapshot_date,
        _batch_id as batch_id,
        _line_no as line_no

    from source

)

select * from renamed
