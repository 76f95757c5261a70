-- The performance figures scored against their peers (docs/contract.md §8.5), every kind of entity at once:
-- agencies are peers by admin level, platforms by type, staff members by agency. A view: a mart that selects
-- one kind scores only that kind (every window is partitioned by entity_kind).
{%- set weights = var('score_weights') %}
{%- set k = var('shrinkage_k') %}
with peer_groups as (

    select 'agency'::text as entity_kind, org_code as entity_code, admin_level as peer_group
    from {{ ref('dim_agencies') }}
    union all
    select 'platform'::text, platform_code, platform_type from {{ ref('dim_platforms') }}
    union all
    select 'staff'::text, staff_no, org_code from {{ ref('dim_staff') }}

),

with_peer_group as (

    select
        figures.*,
        peer_groups.peer_group
    from {{ ref('int_performance_figures') }} as figures
    left join peer_groups
        on figures.entity_kind = peer_groups.entity_kind
        and figures.entity_code = peer_groups.entity_code

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

-- the marts' columns, in their order, after the kind, the entity and its peer group
final as (

    select
        entity_kind,
        entity_code,
        peer_group,
        {{ performance_columns() | join(',\n        ') }}
    from ranked

)

select * from final
