{{ config(materialized='view') }}
-- 数据状态: the state of the data for BI readers (docs/contract.md §9.5), one row per night on record as its latest
-- run left it, newest first. A view, not a table: dbt runs before the night's run is recorded in audit.runs, so a
-- table would always be a night behind. hcp_bi reads it with its owner's rights; audit itself stays closed to it.
with

runs as (

    select * from {{ source('audit', 'runs') }}

),

source_names as (

    select * from {{ ref('source_names') }}

),

-- a night run again (a retry, a catch-up) stands as its last run left it
latest_runs as (

    select distinct on (night)
        night,
        status,
        failed_sources,
        started_at,
        ended_at,
        count(*) over (partition by night) as runs_of_night
    from runs
    order by night, ended_at desc, run_id desc

),

-- the missing sources by name, in the order the run listed them; a source the seed lacks keeps its code
missing_names as (

    select
        latest_runs.night,
        string_agg(coalesce(source_names.source_name_zh, missing.source), '、' order by missing.position)
            as missing_sources_zh,
        string_agg(coalesce(source_names.source_name, missing.source), ', ' order by missing.position)
            as missing_sources_en
    from latest_runs
    cross join lateral unnest(latest_runs.failed_sources) with ordinality as missing (source, position)
    left join source_names on missing.source = source_names.source
    group by latest_runs.night

),

final as (

    select
        latest_runs.night,
        latest_runs.night = max(latest_runs.night) over () as is_latest,
        latest_runs.status,
        case latest_runs.status
            when 'succeeded' then '正常'
            when 'degraded' then '部分来源缺失'
            when 'failed' then '失败'
        end as status_zh,
        latest_runs.failed_sources as missing_sources,
        missing_names.missing_sources_zh,
        missing_names.missing_sources_en,
        latest_runs.started_at,
        latest_runs.ended_at,
        latest_runs.runs_of_night::integer as runs_of_night,
        (count(*) over ())::integer as nights_on_record
    from latest_runs
    left join missing_names on latest_runs.night = missing_names.night

)

select * from final
order by night desc
