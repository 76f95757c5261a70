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
        nullif(promised_days, '')::integer as promised_days,

        ---------- lineage
        snapshot_date::date as snapshot_date,
        _batch_id as batch_id,
        _line_no as line_no

    from source

)

select * from renamed
