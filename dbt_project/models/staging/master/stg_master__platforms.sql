with source as (

    {{ accepted_rows(source('master', 'master_platforms')) }}

),

renamed as (

    select
        ---------- ids
        platform_code,
        org_code,

        ---------- attributes
        platform_name,
        platform_type,

        ---------- lineage
        util.to_date_or_null(snapshot_date) as snapshot_date,
        _batch_id as batch_id,
        _line_no as line_no

    from source

)

select * from renamed
