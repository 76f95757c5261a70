{{
    config(
        materialized='table',
        indexes=[{'columns': ['entity_kind', 'period_grain', 'period_start']}],
    )
}}
-- The performance figures scored against their peers (docs/contract.md §8.5-§8.7), every kind of entity at
-- once: agencies are peers by admin level, platforms by type, staff members by agency, service items by case
-- type, regions by level. With each row's name, rank, movement against the period before and its streak at
-- the bottom. A table: the five performance marts, the published results and the restatements read it.
{%- set weights = var('score_weights') %}
{%- set k = var('shrinkage_k') %}
with figures as (

    select * from {{ ref('int_performance_figures') }}

),

regions as (

    select * from {{ ref('regions') }}

),

-- peer group and name per entity the master data lists; a region's level is in its code
entities as (

    select 'agency'::text as entity_kind, org_code as entity_code, admin_level as peer_group, org_name as entity_name
    from {{ ref('dim_agencies') }}
    union all
    select 'platform', platform_code, platform_type, platform_name from {{ ref('dim_platforms') }}
    union all
    -- staff by number only: their names stay out of the marts
    select 'staff', staff_no, org_code, null from {{ ref('dim_staff') }}
    union all
    select 'service_item', item_code, case_type, item_name from {{ ref('dim_service_items') }}

),

with_peer_group as (

    select
        figures.*,
        case
            when figures.entity_kind = 'region' then {{ region_level('figures.entity_code') }}
            else entities.peer_group
        end as peer_group,
        case when figures.entity_kind = 'region' then regions.region_name else entities.entity_name end
            as entity_name
    from figures
    left join entities
        on figures.entity_kind = entities.entity_kind
        and figures.entity_code = entities.entity_code
    left join regions
        on figures.entity_kind = 'region'
        and figures.entity_code = regions.region_code

),

-- The peer group's points average over all its effective ratings in the period, for the shrinkage.
with_peers as (

    select
        *,
        sum(points_sum) over peer_period / nullif(sum(rating_count) over peer_period, 0) as peer_avg_points
    from with_peer_group
    window peer_period as (partition by entity_kind, peer_group, period_grain, period_start)

),

-- A rate with nothing in its denominator is null in its column and counts as 1 in the score;
-- with no ratings there is no score. The weights and the shrinkage k are vars.
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
                * (rating_count * avg_points + {{ k }} * peer_avg_points)
                / (rating_count + {{ k }}) / 10
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
        case when adjusted_score is not null and peer_group is not null then
            rank() over (
                partition by entity_kind, peer_group, period_grain, period_start,
                    adjusted_score is null or peer_group is null
                order by adjusted_score desc
            )
        end as rank
    from scored

),

-- The bottom (末位): the last ceil(bottom_share × ranked peers), at least the last one, of two or more.
at_bottom as (

    select
        *,
        case when peer_group is not null then
            count(rank) over (partition by entity_kind, peer_group, period_grain, period_start)
        end as peer_count
    from ranked

),

flagged as (

    select
        *,
        coalesce(
            peer_count >= 2 and rank > peer_count - ceil({{ var('bottom_share') }} * peer_count), false
        ) as is_bottom,
        -- the periods of a grain numbered without gaps, so consecutive periods differ by one
        case period_grain
            when 'day' then period_start - date '2000-01-01'
            when 'month' then extract(year from period_start)::integer * 12 + extract(month from period_start)::integer
            when 'quarter' then extract(year from period_start)::integer * 4
                + extract(quarter from period_start)::integer
            else extract(year from period_start)::integer
        end as period_number
    from at_bottom

),

-- Against the period before of the same grain; a row whose entity had no row then has no movement.
moved as (

    select
        *,
        lag(period_number) over entity_periods = period_number - 1 as follows_previous_period,
        lag(adjusted_score) over entity_periods as lagged_adjusted_score,
        lag(rank) over entity_periods as lagged_rank,
        -- consecutive bottom periods share period_number minus their count so far: one island per streak
        period_number - row_number() over (
            partition by entity_kind, entity_code, period_grain, is_bottom order by period_start
        ) as bottom_island
    from flagged
    window entity_periods as (partition by entity_kind, entity_code, period_grain order by period_start)

),

final as (

    select
        entity_kind,
        entity_code,
        entity_name,
        peer_group,
        period_grain,
        period_start,
        rating_count,
        level_1_count,
        level_2_count,
        level_3_count,
        level_4_count,
        level_5_count,
        default_rating_count,
        points_sum,
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
        rank,
        peer_count,
        is_bottom,
        case when is_bottom then
            row_number() over (
                partition by entity_kind, entity_code, period_grain, is_bottom, bottom_island order by period_start
            )
        else 0 end as bottom_streak,
        case when follows_previous_period then lagged_adjusted_score end as previous_adjusted_score,
        case when follows_previous_period then adjusted_score - lagged_adjusted_score end as score_change,
        case when follows_previous_period then lagged_rank end as previous_rank,
        -- positive: moved up
        case when follows_previous_period then lagged_rank - rank end as rank_change
    from moved

)

select * from final
