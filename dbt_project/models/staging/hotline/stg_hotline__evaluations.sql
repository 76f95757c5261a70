with source as (

    {{ accepted_rows(source('hotline', 'hotline_evaluations')) }}

),

renamed as (

    select
        ---------- ids
        'hotline'::text as channel,
        id as evaluation_id,
        work_order_no,
        case_no,
        item_code,
        dept_code as org_code,
        area_code,
        platform_code,
        nullif(staff_no, '') as staff_no,

        ---------- levels: the hotline's three-level scale 满意 / 基本满意 / 不满意 is canonical 2 / 3 / 4
        {{ level_from_name('btrim(satisfaction)') }} as level_code,
        '{}'::text[] as reason_codes,
        null::text as comment_text,

        ---------- personal data: a keyed hash of the caller's phone stands for the rater
        util.keyed_hash(caller_phone) as rater_key,

        ---------- timestamps: ISO-8601 with the offset (casts that cannot fail: util.sql)
        util.to_timestamptz_or_null(visit_time) as rated_at,
        (util.to_timestamptz_or_null(visit_time) at time zone 'Asia/Shanghai')::date as rated_date,
        util.to_timestamptz_or_null(modified_time) as updated_at,

        ---------- flags
        false as is_default_rating,
        coalesce(is_deleted = 'true', false) as is_withdrawn,
        1 as rating_seq,

        ---------- lineage
        _batch_id as batch_id,
        _source_page as source_page,
        _line_no as line_no,
        _loaded_at as loaded_at

    from source

)

select * from renamed
