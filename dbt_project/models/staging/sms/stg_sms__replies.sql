-- Opt-outs, unparseable replies and replies whose case never turned up are quarantined by validation;
-- replies still waiting for their case are held: neither reaches staging.
with source as (

    {{ accepted_rows(source('sms', 'sms_replies')) }}

),

renamed as (

    select
        ---------- ids
        'sms'::text as channel,
        msg_id as evaluation_id,
        case_no,

        ---------- levels: a leading digit 1-5, else exactly one level phrase (util.sms_reply_level, shared
        ---------- with the validation rules so both read a reply the same way)
        util.sms_reply_level(reply_text) as level_code,
        reply_text,

        ---------- personal data: a keyed hash of the phone stands for the rater
        util.keyed_hash(phone) as rater_key,

        ---------- timestamps: ISO-8601 with an offset, often Z (casts that cannot fail: util.sql)
        util.to_timestamptz_or_null(received_at) as rated_at,
        (util.to_timestamptz_or_null(received_at) at time zone 'Asia/Shanghai')::date as rated_date,
        util.to_timestamptz_or_null(received_at) as updated_at,

        ---------- lineage
        _batch_id as batch_id,
        _source_page as source_page,
        _line_no as line_no,
        _loaded_at as loaded_at

    from source

)

select * from renamed
