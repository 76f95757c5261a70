-- The flags that decide whether a rating counts (domain.md 7): withdrawn by its channel, struck out on
-- appeal, superseded by a follow-up (追评, seq 2) on the same case in the same channel, a system default.
with ratings as (

    select * from {{ ref('int_ratings_deduplicated') }}

),

orders as (

    select * from {{ ref('int_rectification_orders') }}

),

level_points as (

    select * from {{ ref('level_points') }}

),

flagged as (

    select
        ratings.*,
        level_points.points as level_points,
        level_points.is_bad_review as is_bad_level,
        orders.struck_out_at is not null as is_struck_out,
        -- a window, not a join to the follow-ups: the planner cannot misjudge it into a nested loop
        ratings.rating_seq = 1 and ratings.case_no is not null
            and bool_or(ratings.rating_seq = 2) over (partition by ratings.channel, ratings.case_no)
            as is_superseded
    from ratings
    inner join level_points on ratings.level_code = level_points.level_code
    left join orders
        on ratings.channel = orders.channel and ratings.evaluation_id = orders.evaluation_id

),

final as (

    select
        *,
        not is_withdrawn and not is_struck_out and not is_superseded as is_effective,
        not is_withdrawn and not is_struck_out and not is_superseded and not is_default_rating
            as counts_in_scores
    from flagged

)

select * from final
