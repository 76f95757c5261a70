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
        nullif(applicant_type, '')::integer as applicant_type,

        ---------- timestamps: Beijing wall-clock strings
        nullif(submitted_at, '')::timestamp at time zone 'Asia/Shanghai' as submitted_at,
        nullif(completed_at, '')::timestamp at time zone 'Asia/Shanghai' as completed_at,
        nullif(completed_at, '')::timestamp::date as completed_date,

        ---------- lineage
        snapshot_date::date as snapshot_date,
        _batch_id as batch_id,
        _line_no as line_no

    from source

)

select * from renamed
