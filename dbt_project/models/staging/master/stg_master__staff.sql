-- Staff are rated, not raters: their names are the assessment's subject, not personal data of a rater.
with source as (

    {{ accepted_rows(source('master', 'master_staff')) }}

),

renamed as (

    select
        ---------- ids
        staff_no,
        org_code,
        window_no,

        ---------- attributes
        staff_name,

        ---------- flags
        upper(btrim(active)) = 'Y' as is_active,

        ---------- lineage
        util.to_date_or_null(snapshot_date) as snapshot_date,
        _batch_id as batch_id,
        _line_no as line_no

    from source

)

select * from renamed
