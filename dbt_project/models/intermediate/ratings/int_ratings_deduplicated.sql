-- Every channel may deliver the same rating again (overlapping pages, re-sent files, updated rows):
-- the latest version of each (channel, evaluation id) wins.
with ratings as (

    select * from {{ ref('stg_pc__evaluations') }}

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
