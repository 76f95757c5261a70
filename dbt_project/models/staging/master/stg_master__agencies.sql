with source as (

    {{ accepted_rows(source('master', 'master_agencies')) }}

),

renamed as (

    select
        ---------- ids
        org_code,
        nullif(parent_org_code, '') as parent_org_code,
        area_code,

        ---------- attributes
        org_name,
        admin_level,

        ---------- lineage
        util.to_date_or_null(snapshot_date) as snapshot_date,
        _batch_id as batch_id,
        _line_no as line_no

    from source

)

select * from renamed
