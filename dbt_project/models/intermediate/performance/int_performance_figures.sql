{{ config(materialized='table') }}
-- depends_on: {{ ref('fct_bad_reviews') }} (after its tests: the deadline figures count its bad reviews)
-- The figures of docs/contract.md §8 that need no peer group, per kind of entity (agency, platform, staff
-- member, service item, region), entity and period (Beijing day, month, quarter, year): the rows of the
-- performance marts before they are scored against their peers. A row for every entity and period with a
-- rating, a completed case or a bad review falling due. A table: computed once for the five marts.
with rating_counts as (

    select * from {{ ref('int_rating_counts_daily') }}

),

case_counts as (

    select * from {{ ref('int_case_counts_daily') }}

),

bad_reviews as (

    select * from {{ ref('int_bad_reviews') }}

),

agencies as (

    select * from {{ ref('dim_agencies') }}

),

periods as (

    select period_grain
    from (values ('day'), ('month'), ('quarter'), ('year')) as grains (period_grain)

),

-- The three sources in one shape: a row is a day's rating counts, a day's case counts, or a bad review
-- falling due (one row per deadline); the other sources' columns are null. A row's region is its own area
-- code; an SMS reply has none and a case is its agency's (§8.3), so those take their agency's.
counted as (

    select
        rating_counts.org_code,
        rating_counts.platform_code,
        rating_counts.staff_no,
        rating_counts.item_code,
        coalesce(rating_counts.area_code, agencies.area_code) as area_code,
        rating_counts.rated_date as counted_date,
        rating_counts.effective_count,
        rating_counts.rating_count,
        rating_counts.level_1_count,
        rating_counts.level_2_count,
        rating_counts.level_3_count,
        rating_counts.level_4_count,
        rating_counts.level_5_count,
        rating_counts.default_rating_count,
        rating_counts.points_sum,
        null::bigint as cases_completed,
        null::bigint as cases_rated,
        null::text as deadline,
        null::boolean as is_on_time
    from rating_counts
    left join agencies on rating_counts.org_code = agencies.org_code

    union all

    select
        case_counts.org_code, case_counts.platform_code, case_counts.staff_no, case_counts.item_code,
        agencies.area_code, case_counts.completed_date,
        null, null, null, null, null, null, null, null, null,
        case_counts.cases_completed, case_counts.cases_rated,
        null, null
    from case_counts
    left join agencies on case_counts.org_code = agencies.org_code

    union all

    -- the bad reviews whose deadline falls due in the period, and among those decided by night D the ones on time
    select
        bad_reviews.org_code, bad_reviews.platform_code, bad_reviews.staff_no, bad_reviews.item_code,
        coalesce(bad_reviews.area_code, agencies.area_code), deadlines.due_date,
        null, null, null, null, null, null, null, null, null,
        null, null,
        deadlines.deadline, deadlines.is_on_time
    from bad_reviews
    left join agencies on bad_reviews.org_code = agencies.org_code
    cross join lateral (
        values
            ('verification', bad_reviews.verification_due_date, bad_reviews.is_verified_on_time),
            ('rectification', bad_reviews.close_due_date, bad_reviews.is_closed_on_time)
    ) as deadlines (deadline, due_date, is_on_time)
    where deadlines.due_date is not null

),

-- Each row counts once for each entity it names: its agency, platform, staff member and item, and every
-- region its area code lies in (each region from its own rows, never from its parts' figures). Summed per
-- entity and day first, so the four grains below add up days, not the rows again.
daily as (

    select
        entities.entity_kind,
        entities.entity_code,
        counted.counted_date,
        sum(counted.effective_count) as effective_count,
        bool_or(counted.effective_count is null) as has_case_or_deadline,
        sum(counted.rating_count) as rating_count,
        sum(counted.level_1_count) as level_1_count,
        sum(counted.level_2_count) as level_2_count,
        sum(counted.level_3_count) as level_3_count,
        sum(counted.level_4_count) as level_4_count,
        sum(counted.level_5_count) as level_5_count,
        sum(counted.default_rating_count) as default_rating_count,
        sum(counted.points_sum) as points_sum,
        sum(counted.cases_completed) as cases_completed,
        sum(counted.cases_rated) as cases_rated,
        count(*) filter (where counted.deadline = 'verification' and counted.is_on_time is not null)
            as verifications_decided,
        count(*) filter (where counted.deadline = 'verification' and counted.is_on_time) as verifications_on_time,
        count(*) filter (where counted.deadline = 'rectification' and counted.is_on_time is not null)
            as rectifications_decided,
        count(*) filter (where counted.deadline = 'rectification' and counted.is_on_time) as rectifications_on_time
    from counted
    cross join lateral (
        select entity_kind, entity_code
        from (
            values
                ('agency', counted.org_code),
                ('platform', counted.platform_code),
                ('staff', counted.staff_no),
                ('service_item', counted.item_code)
        ) as named (entity_kind, entity_code)
        union all
        select 'region', region_code
        from {{ region_levels('counted.area_code') }} as regions (region_level, region_code)
    ) as entities
    where entities.entity_code is not null
    group by 1, 2, 3

),

aggregated as (

    select
        daily.entity_kind,
        daily.entity_code,
        periods.period_grain,
        date_trunc(periods.period_grain, daily.counted_date)::date as period_start,
        sum(daily.rating_count)::bigint as rating_count,
        sum(daily.level_1_count)::bigint as level_1_count,
        sum(daily.level_2_count)::bigint as level_2_count,
        sum(daily.level_3_count)::bigint as level_3_count,
        sum(daily.level_4_count)::bigint as level_4_count,
        sum(daily.level_5_count)::bigint as level_5_count,
        sum(daily.default_rating_count)::bigint as default_rating_count,
        sum(daily.points_sum) as points_sum,
        sum(daily.cases_completed)::bigint as cases_completed,
        sum(daily.cases_rated)::bigint as cases_rated,
        sum(daily.verifications_decided)::bigint as verifications_decided,
        sum(daily.verifications_on_time)::bigint as verifications_on_time,
        sum(daily.rectifications_decided)::bigint as rectifications_decided,
        sum(daily.rectifications_on_time)::bigint as rectifications_on_time
    from daily
    cross join periods
    group by 1, 2, 3, 4
    -- a period with only ineffective ratings has no row, unless a case or a due bad review gives it one;
    -- its rating counts are then all 0
    having sum(daily.effective_count) > 0 or bool_or(daily.has_case_or_deadline)

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
