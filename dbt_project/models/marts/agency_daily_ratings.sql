-- Ratings per agency and Beijing day: the first slice of the performance tables.
-- System default ratings (pc pf = 7) are counted apart and left out of the average.
with ratings as (

    select * from {{ ref('int_ratings_deduplicated') }}
    -- a rating time after the end of D+1 is in the future for night D
    where rated_date <= date '{{ var("night") }}' + 1

),

level_points as (

    select * from {{ ref('level_points') }}

),

rated as (

    select
        ratings.org_code,
        ratings.rated_date,
        ratings.is_default_rating,
        level_points.points
    from ratings
    inner join level_points on ratings.level_code = level_points.level_code

),

final as (

    select
        org_code,
        rated_date as rating_date,
        count(*) filter (where not is_default_rating) as rating_count,
        count(*) filter (where is_default_rating) as default_rating_count,
        round(avg(points) filter (where not is_default_rating), 4) as avg_points
    from rated
    group by org_code, rated_date

)

select * from final
