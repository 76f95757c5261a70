with source as (

    {{ accepted_rows(source('hall', 'hall_evaluations')) }}

),

renamed as (

    select
        ---------- ids
        'hall'::text as channel,
        evaluation_no as evaluation_id,
        case_no,
        item_code,
        dept_code as org_code,
        area_code,
        platform_code,
        nullif(staff_no, '') as staff_no,
        window_no,
        hall_code,

        ---------- levels: the tablets write the level's Chinese name
        {{ level_from_name('btrim(result)') }} as level_code,
        util.split_codes(bad_reasons, '|') as reason_codes,
        null::text as comment_text,

        ---------- personal data: a keyed hash of the phone stands for the rater
        util.keyed_hash(phone) as rater_key,

        ---------- timestamps: YYYY/MM/DD HH:MM:SS, Beijing, no zone (casts that cannot fail: util.sql)
        util.to_timestamp_or_null(replace(eval_time, '/', '-')) at time zone 'Asia/Shanghai' as rated_at,
        util.to_timestamp_or_null(replace(eval_time, '/', '-'))::date as rated_date,
        -- no update time: a file delivered again is a later batch, and the later batch wins, even when a
        -- correction moves the rating time earlier
        null::timestamptz as updated_at,

        ---------- flags
        false as is_default_rating,
        false as is_withdrawn,
        1 as rating_seq,

        ---------- lineage
        _batch_id as batch_id,
        _source_page as source_page,
        _line_no as line_no,
        _loaded_at as loaded_at

    from source

)

select * from renamed
