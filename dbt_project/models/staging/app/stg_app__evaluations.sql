with source as (

    {{ accepted_rows(source('app', 'app_evaluations')) }}

),

renamed as (

    select
        ---------- ids
        'app'::text as channel,
        eval_id as evaluation_id,
        case_no,
        item_code,
        org_code,
        area_code,
        platform_code,
        nullif(staff_no, '') as staff_no,

        ---------- levels: the app already uses the canonical direction, 1 = 非常满意
        satisfaction_code::integer as level_code,
        util.jsonb_text_array(
            case when pg_input_is_valid(tags, 'jsonb') and left(ltrim(tags), 1) = '[' then tags::jsonb
            else '[]'::jsonb end
        ) as reason_codes,
        text as comment_text,

        ---------- personal data: a keyed hash of the id card number stands for the rater
        util.keyed_hash(user_id_card) as rater_key,

        ---------- timestamps: YYYYMMDDThhmmss, Beijing wall clock
        to_timestamp(eval_time, 'YYYYMMDD"T"HH24MISS')::timestamp at time zone 'Asia/Shanghai' as rated_at,
        to_timestamp(eval_time, 'YYYYMMDD"T"HH24MISS')::date as rated_date,
        -- no update time in the export: a later batch is a later version
        to_timestamp(eval_time, 'YYYYMMDD"T"HH24MISS')::timestamp at time zone 'Asia/Shanghai' as updated_at,

        ---------- flags
        false as is_default_rating,
        false as is_withdrawn,
        eval_seq::integer as rating_seq,
        user_type::integer as user_type,
        client,

        ---------- lineage
        _batch_id as batch_id,
        _source_page as source_page,
        _line_no as line_no,
        _loaded_at as loaded_at

    from source

)

select * from renamed
