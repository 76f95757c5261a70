{#-
    The performance figures of docs/contract.md §8 for one kind of entity, per Beijing day and month.
      entity: the column naming the entity in the daily counts (int_rating_counts_daily, int_case_counts_daily)
              and fct_bad_reviews
      dimension / peer_column: the dimension that puts the entity in its peer group, and the column that does
    Weights, the shrinkage k and the levels' points are vars and seeds, never numbers here.
-#}
{% macro performance(entity, dimension, peer_column) -%}
{%- set weights = var('score_weights') -%}
with periods as (

    select 'day'::text as period_grain
    union all
    select 'month'::text

),

ratings as (

    select
        counts.{{ entity }},
        periods.period_grain,
        case periods.period_grain when 'day' then counts.rated_date else date_trunc('month', counts.rated_date)::date end
            as period_start,
        sum(counts.rating_count)::bigint as rating_count,
        {%- for level in range(1, 6) %}
        sum(counts.level_{{ level }}_count)::bigint as level_{{ level }}_count,
        {%- endfor %}
        sum(counts.default_rating_count)::bigint as default_rating_count,
        sum(counts.points_sum) as points_sum
    from {{ ref('int_rating_counts_daily') }} as counts
    cross join periods
    where counts.{{ entity }} is not null
    group by 1, 2, 3
    having sum(counts.effective_count) > 0

),

cases as (

    select
        counts.{{ entity }},
        periods.period_grain,
        case periods.period_grain
            when 'day' then counts.completed_date else date_trunc('month', counts.completed_date)::date
        end as period_start,
        sum(counts.cases_completed)::bigint as cases_completed,
        sum(counts.cases_rated)::bigint as cases_rated
    from {{ ref('int_case_counts_daily') }} as counts
    cross join periods
    where counts.{{ entity }} is not null
    group by 1, 2, 3

),

{%- for deadline, due_column, met_column in [
        ('verifications', 'verification_due_date', 'is_verified_on_time'),
        ('rectifications', 'close_due_date', 'is_closed_on_time'),
    ] %}

{{ deadline }} as (

    -- the bad reviews due in the period, and among those decided by night D the ones on time
    select
        bad_reviews.{{ entity }},
        periods.period_grain,
        case periods.period_grain
            when 'day' then bad_reviews.{{ due_column }} else date_trunc('month', bad_reviews.{{ due_column }})::date
        end as period_start,
        count(*) filter (where bad_reviews.{{ met_column }} is not null) as {{ deadline }}_decided,
        count(*) filter (where bad_reviews.{{ met_column }}) as {{ deadline }}_on_time
    from {{ ref('fct_bad_reviews') }} as bad_reviews
    cross join periods
    where bad_reviews.{{ due_column }} is not null and bad_reviews.{{ entity }} is not null
    group by 1, 2, 3

),
{%- endfor %}

entity_periods as (

    select {{ entity }}, period_grain, period_start from ratings
    union
    select {{ entity }}, period_grain, period_start from cases
    union
    select {{ entity }}, period_grain, period_start from verifications
    union
    select {{ entity }}, period_grain, period_start from rectifications

),

figures as (

    select
        entity_periods.{{ entity }},
        dimension.{{ peer_column }},
        entity_periods.period_grain,
        entity_periods.period_start,
        coalesce(ratings.rating_count, 0) as rating_count,
        {%- for level in range(1, 6) %}
        coalesce(ratings.level_{{ level }}_count, 0) as level_{{ level }}_count,
        {%- endfor %}
        coalesce(ratings.default_rating_count, 0) as default_rating_count,
        coalesce(ratings.points_sum, 0) as points_sum,
        ratings.points_sum / nullif(ratings.rating_count, 0) as avg_points,
        (ratings.level_1_count + ratings.level_2_count + ratings.level_3_count)::numeric
            / nullif(ratings.rating_count, 0) as satisfaction_rate,
        (ratings.level_4_count + ratings.level_5_count)::numeric / nullif(ratings.rating_count, 0)
            as bad_review_rate,
        coalesce(cases.cases_completed, 0) as cases_completed,
        coalesce(cases.cases_rated, 0) as cases_rated,
        cases.cases_rated::numeric / nullif(cases.cases_completed, 0) as evaluation_rate,
        coalesce(verifications.verifications_decided, 0) as verifications_decided,
        coalesce(verifications.verifications_on_time, 0) as verifications_on_time,
        verifications.verifications_on_time::numeric / nullif(verifications.verifications_decided, 0)
            as on_time_verification_rate,
        coalesce(rectifications.rectifications_decided, 0) as rectifications_decided,
        coalesce(rectifications.rectifications_on_time, 0) as rectifications_on_time,
        rectifications.rectifications_on_time::numeric / nullif(rectifications.rectifications_decided, 0)
            as on_time_rectification_rate
    from entity_periods
    left join {{ dimension }} as dimension on entity_periods.{{ entity }} = dimension.{{ entity }}
    {%- for part in ['ratings', 'cases', 'verifications', 'rectifications'] %}
    left join {{ part }}
        on entity_periods.{{ entity }} = {{ part }}.{{ entity }}
        and entity_periods.period_grain = {{ part }}.period_grain
        and entity_periods.period_start = {{ part }}.period_start
    {%- endfor %}

),

-- The peer group's points average over all its effective ratings in the period, for the shrinkage.
with_peers as (

    select
        *,
        sum(points_sum) over peer_period / nullif(sum(rating_count) over peer_period, 0) as peer_avg_points
    from figures
    window peer_period as (partition by {{ peer_column }}, period_grain, period_start)

),

-- A rate with nothing in its denominator is null in its column and counts as 1 in the score;
-- with no ratings there is no score.
scored as (

    select
        *,
        case when rating_count > 0 then 100 * (
            {{ weights['avg_points'] }} * avg_points / 10
            + {{ weights['evaluation_rate'] }} * coalesce(evaluation_rate, 1)
            + {{ weights['on_time_rectification_rate'] }} * coalesce(on_time_rectification_rate, 1)
            + {{ weights['on_time_verification_rate'] }} * coalesce(on_time_verification_rate, 1)
        ) end as performance_score,
        case when rating_count > 0 then 100 * (
            {{ weights['avg_points'] }}
                * (rating_count * avg_points + {{ var('shrinkage_k') }} * peer_avg_points)
                / (rating_count + {{ var('shrinkage_k') }}) / 10
            + {{ weights['evaluation_rate'] }} * coalesce(evaluation_rate, 1)
            + {{ weights['on_time_rectification_rate'] }} * coalesce(on_time_rectification_rate, 1)
            + {{ weights['on_time_verification_rate'] }} * coalesce(on_time_verification_rate, 1)
        ) end as adjusted_score
    from with_peers

),

-- Ties share a rank (1, 2, 2, 4); rows without a score, or outside any known peer group, are not ranked.
ranked as (

    select
        *,
        case when adjusted_score is not null and {{ peer_column }} is not null then
            rank() over (
                partition by {{ peer_column }}, period_grain, period_start,
                    adjusted_score is null or {{ peer_column }} is null
                order by adjusted_score desc
            )
        end as rank
    from scored

)

select
    {{ entity }},
    {{ peer_column }},
    period_grain,
    period_start,
    rating_count,
    level_1_count,
    level_2_count,
    level_3_count,
    level_4_count,
    level_5_count,
    default_rating_count,
    avg_points,
    satisfaction_rate,
    bad_review_rate,
    cases_completed,
    cases_rated,
    evaluation_rate,
    verifications_decided,
    verifications_on_time,
    on_time_verification_rate,
    rectifications_decided,
    rectifications_on_time,
    on_time_rectification_rate,
    performance_score,
    peer_avg_points,
    adjusted_score,
    rank
from ranked
{%- endmacro %}
