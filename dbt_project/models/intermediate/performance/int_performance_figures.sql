{{ config(materialized='table') }}
-- The figures of docs/contract.md §8 that need no peer group, per kind of entity (agency, platform, staff
-- member), entity and Beijing day or month: the rows of the performance marts before they are scored
-- against their peers. A row for every entity and period with a rating, a completed case or a bad review
-- falling due. A table: computed once for the three marts.
with rating_counts as (

    select * from {{ ref('int_rating_counts_daily') }}

),

case_counts as (

    select * from {{ ref('int_case_counts_daily') }}

),

bad_reviews as (

    select * from {{ ref('int_bad_reviews') }}

),

periods as (

    select 'day'::text as period_grain
    union all
    select 'month'::text

),

-- The three sources in one shape: a row is a day's rating counts, a day's case counts, or a bad review
-- falling due (one row per deadline); the other sources' columns are null.
counted as (

    select
        org_code,
        platform_code,
        staff_no,
        rated_date as counted_date,
        effective_count,
        rating_count,
        level_1_count,
        level_2_count,
        level_3_count,
        level_4_count,
        level_5_count,
        default_rating_count,
        points_sum,
        null::bigint as cases_completed,
        null::bigint as cases_rated,
        null::text as deadline,
        null::boolean as is_on_time
    from rating_counts

    union all

    select
        org_code, platform_code, staff_no, completed_date,
        null, null, null, null, null, null, null, null, null,
        cases_completed, cases_rated,
        null, null
    from case_counts

    union all

    -- the bad reviews whose deadline falls due in the period, and among those decided by night D the ones on time
    select
        bad_reviews.org_code, bad_reviews.platform_code, bad_reviews.staff_no, deadlines.due_date,
        null, null, null, null, null, null, null, null, null,
        null, null,
        deadlines.deadline, deadlines.is_on_time
    from bad_reviews
    cross join lateral (
        values
            ('verification', bad_reviews.verification_due_date, bad_reviews.is_verified_on_time),
            ('rectification', bad_reviews.close_due_date, bad_reviews.is_closed_on_time)
    ) as deadlines (deadline, due_date, is_on_time)
    where deadlines.due_date is not null

),

-- Each row counts once for each kind of entity (by its agency, its platform and its staff member) and once
-- for each grain: one pass over the rows for every kind and grain.
aggregated as (

    select
        entities.entity_kind,
        entities.entity_code,
        periods.period_grain,
        case periods.period_grain
            when 'day' then counted.counted_date else date_trunc('month', counted.counted_date)::date
        end as period_start,
        sum(counted.rating_count)::bigint as rating_count,
        sum(counted.level_1_count)::bigint as level_1_count,
        sum(counted.level_2_count)::bigint as level_2_count,
        sum(counted.level_3_count)::bigint as level_3_count,
        sum(counted.level_4_count)::bigint as level_4_count,
        sum(counted.level_5_count)::bigint as level_5_count,
        sum(counted.default_rating_count)::bigint as default_rating_count,
        sum(counted.points_sum) as points_sum,
        sum(counted.cases_completed)::bigint as cases_completed,
        sum(counted.cases_rated)::bigint as cases_rated,
        count(*) filter (where counted.deadline = 'verification' and counted.is_on_time is not null)
            as verifications_decided,
        count(*) filter (where counted.deadline = 'verification' and counted.is_on_time) as verifications_on_time,
        count(*) filter (where counted.deadline = 'rectification' and counted.is_on_time is not null)
            as rectifications_decided,
        count(*) filter (where counted.deadline = 'rectification' and counted.is_on_time) as rectifications_on_time
    from counted
    cross join lateral (
        values
            ('agency', counted.org_code),
            ('platform', counted.platform_code),
            ('staff', counted.staff_no)
    ) as entities (entity_kind, entity_code)
    cross join periods
    where entities.entity_code is not null
    group by 1, 2, 3, 4
    -- a period with only ineffective ratings has no row, unless a case or a due bad review gives it one
    -- (rows from those have no effective_count); its rating counts are then all 0
    having sum(counted.effective_count) > 0 or bool_or(counted.effective_count is null)

),

final as (

    select
        entity_kind,
        entity_code,
        period_grain,
        period_start,

        ---------- ratings
        coalesce(rating_count, 0) as rating_count,
        coalesce(level_1_count, 0) as level_1_count,
        coalesce(level_2_count, 0) as level_2_count,
        coalesce(level_3_count, 0) as level_3_count,
        coalesce(level_4_count, 0) as level_4_count,
        coalesce(level_5_count, 0) as level_5_count,
        coalesce(default_rating_count, 0) as default_rating_count,
        coalesce(points_sum, 0) as points_sum,
        points_sum / nullif(rating_count, 0) as avg_points,
        (level_1_count + level_2_count + level_3_count)::numeric / nullif(rating_count, 0) as satisfaction_rate,
        (level_4_count + level_5_count)::numeric / nullif(rating_count, 0) as bad_review_rate,

        ---------- cases
        coalesce(cases_completed, 0) as cases_completed,
        coalesce(cases_rated, 0) as cases_rated,
        cases_rated::numeric / nullif(cases_completed, 0) as evaluation_rate,

        ---------- deadlines
        verifications_decided,
        verifications_on_time,
        verifications_on_time::numeric / nullif(verifications_decided, 0) as on_time_verification_rate,
        rectifications_decided,
        rectifications_on_time,
        rectifications_on_time::numeric / nullif(rectifications_decided, 0) as on_time_rectification_rate

    from aggregated

)

select * from final
