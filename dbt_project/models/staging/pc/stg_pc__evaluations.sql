with source as (

    {{ accepted_rows(source('pc', 'pc_evaluations')) }}

),

renamed as (

    select
        ---------- ids
        'pc'::text as channel,
        evaluation_id,
        project_no as case_no,
        task_code as item_code,
        dept_code as org_code,
        area_code,
        platform_code,
        nullif(staff_no, '') as staff_no,

        ---------- levels: the portal counts 1 = 非常不满意 .. 5 = 非常满意, the reverse of the canonical code
        6 - satisfaction::integer as level_code,
        coalesce(string_to_array(nullif(eval_detail, ''), ','), '{}') as reason_codes,
        writing_evaluation as comment_text,

        ---------- personal data: a keyed hash of the phone stands for the rater; the name is not kept
        util.keyed_hash(user_phone) as rater_key,

        ---------- timestamps: Beijing wall-clock strings in the source
        assess_time::timestamp at time zone 'Asia/Shanghai' as rated_at,
        assess_time::timestamp::date as rated_date,
        update_time::timestamp at time zone 'Asia/Shanghai' as updated_at,

        ---------- flags
        pf = '7' as is_default_rating,
        false as is_withdrawn,
        assess_number::integer as rating_seq,
        user_prop::integer as user_type,

        ---------- lineage
        _batch_id as batch_id,
        _source_page as source_page,
        _line_no as line_no,
        _loaded_at as loaded_at

    from source

)

select * from renamed
