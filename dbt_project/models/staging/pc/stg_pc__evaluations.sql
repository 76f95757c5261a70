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
        6 - util.to_integer_or_null(satisfaction) as level_code,
        util.split_codes(eval_detail, ',') as reason_codes,
        writing_evaluation as comment_text,

        ---------- personal data: a keyed hash of the phone stands for the rater; the name is not kept
        util.keyed_hash(user_phone) as rater_key,

        ---------- timestamps: Beijing wall-clock strings in the source (casts that cannot fail: util.sql)
        util.to_timestamp_or_null(assess_time) at time zone 'Asia/Shanghai' as rated_at,
        util.to_timestamp_or_null(assess_time)::date as rated_date,
        util.to_timestamp_or_null(update_time) at time zone 'Asia/Shanghai' as updated_at,

        ---------- flags
        -- pf 7: the system's default after 7 days without a rating; anything else a person gave
        coalesce(util.to_integer_or_null(pf) = 7, false) as is_default_rating,
        false as is_withdrawn,
        util.to_integer_or_null(assess_number) as rating_seq,
        util.to_integer_or_null(user_prop) as user_type,

        ---------- lineage
        _batch_id as batch_id,
        _source_page as source_page,
        _line_no as line_no,
        _loaded_at as loaded_at

    from source

)

select * from renamed
