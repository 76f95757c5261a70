-- Every channel may deliver the same rating again (overlapping pages, re-sent files, updated rows):
-- the latest version of each (channel, evaluation id) wins. A rating time after the end of D+1 is in the
-- future for night D and waits (domain.md 1).
with ratings as (

    select * from {{ ref('int_ratings_unioned') }}
    where rated_at < (date '{{ var("night") }}' + 2)::timestamp at time zone 'Asia/Shanghai'

),

ranked as (

    select
        *,
        row_number() over (
            partition by channel, evaluation_id
            order by updated_at desc, batch_id desc, line_no desc
        ) as version_rank
    from ratings

)

select * from ranked
where version_rank = 1
