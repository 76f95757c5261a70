{#- The days night D counts again: those of the ratings it rebuilds, and the days its versions moved them
    from (int_ratings_deduplicated keeps them on the versions the night landed, by its batch index). -#}
{% macro touched_rating_days() -%}
    {%- if execute and not is_incremental() -%}{{ return('null') }}{%- endif -%}  {#- a full build counts every day #}
    {%- set query -%}
        -- group by, not only union: a million dates are hashed into a few, not sorted
        select rated_date from {{ ref('int_ratings_touched') }} group by rated_date
        union
        select replaced_rated_date from {{ ref('int_ratings_deduplicated') }}
        where batch_id in ({{ night_batch_ids() }}) and replaced_rated_date is not null
        order by 1
    {%- endset -%}
    {{ return(literal_list(query)) }}
{%- endmacro %}

{#- The days of the cases night D redoes, and the days its listings moved them from. -#}
{% macro touched_case_days() -%}
    {%- if execute and not is_incremental() -%}{{ return('null') }}{%- endif -%}  {#- a full build counts every day #}
    {#- A case tonight's snapshots list has its day on tonight's listing, which the batch index reads; only
        the cases of touched ratings listed on earlier nights are looked up, each by its index (lateral,
        LIMIT 1), rather than every touched case. EXCEPT, not NOT EXISTS: the statistics do not know
        tonight's batches yet (autovacuum may not have analyzed them), and an anti-join planned on that guess
        scans them all again for every touched case. -#}
    {%- set query -%}
        select days.completed_date
        from {{ ref('int_cases_deduplicated') }} as listed
        cross join lateral (
            values (listed.completed_date), (listed.replaced_completed_date)
        ) as days (completed_date)
        where listed.batch_id in ({{ night_batch_ids() }}) and days.completed_date is not null
        group by days.completed_date
        union
        select cases.completed_date
        from ({{ cases_listed_before() }}) as listed_before
        cross join lateral (
            select completed_date from {{ ref('int_cases_rated') }} as cases
            where cases.case_no = listed_before.case_no and cases.completed_date is not null
            limit 1
        ) as cases
        group by cases.completed_date
        order by 1
    {%- endset -%}
    {{ return(literal_list(query)) }}
{%- endmacro %}
