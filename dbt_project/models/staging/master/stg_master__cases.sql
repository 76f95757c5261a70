with source as (

    {{ accepted_rows(source('master', 'master_cases')) }}

),

renamed as (

    select
        ---------- ids
        case_no,
        item_code,
        org_code,
        platform_code,
        nullif(staff_no, '') as staff_no,

        ---------- attributes
        util.to_integer_or_null(applicant_type) as applicant_type,

        ---------- timestamps: Beijing wall-clock strings (casts that cannot fail: util.sql)
        util.to_timestamp_or_null(submitted_at) at time zone 'Asia/Shanghai' as submitted_at,
        util.to_timestamp_or_null(completed_at) at time zone 'Asia/Shanghai' as completed_at,
        util.to_timestamp_or_null(completed_at)::date as completed_date,

        ---------- lineage
        util.to_date_or_null(snapshot_date) as snapshot_date,
        _batch_id as batch_id,
        _line_no as line_no

    from source

)

select * from renamed
