{#- YYYYMMDDThhmmss rewritten as YYYY-MM-DD hh:mm:ss with string functions only -#}
{%- set app_time -%}
    substr(eval_time, 1, 4) || '-' || substr(eval_time, 5, 2) || '-' || substr(eval_time, 7, 2)
    || ' ' || substr(eval_time, 10, 2) || ':' || substr(eval_time, 12, 2) || ':' || substr(eval_time, 14, 2)
{%- endset -%}

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
        util.to_integer_or_null(satisfaction_code) as level_code,
        util.reason_codes_from_json(tags) as reason_codes,
        text as comment_text,

        ---------- personal data: a keyed hash of the id card number stands for the rater
        util.keyed_hash(user_id_card) as rater_key,

        ---------- timestamps: YYYYMMDDThhmmss, Beijing wall clock (casts that cannot fail: util.sql)
        util.to_timestamp_or_null({{ app_time }}) at time zone 'Asia/Shanghai' as rated_at,
        util.to_timestamp_or_null({{ app_time }})::date as rated_date,
        -- no update time in the export: the later batch is the later version (int_ratings_deduplicated),
        -- even when a correction moves the rating time earlier
        null::timestamptz as updated_at,

        ---------- flags
        false as is_default_rating,
        false as is_withdrawn,
        util.to_integer_or_null(eval_seq) as rating_seq,
        util.to_integer_or_null(user_type) as user_type,
        client,

        ---------- lineage
        _batch_id as batch_id,
        _source_page as source_page,
        _line_no as line_no,
        _loaded_at as loaded_at

    from source

)

select * from renamed
