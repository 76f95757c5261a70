{#- The cases night D must redo: those its snapshots list, and those of the ratings it rebuilds. -#}
{% macro touched_case_nos() -%}
    {{ listed_case_nos() }}
    union
    select case_no from {{ ref('int_ratings_touched') }}
    where case_no is not null
{%- endmacro %}

{#- The days night D counts again: those of the ratings it rebuilds, those of the cases it redoes. -#}
{% macro touched_rating_days() -%}
    {{ return(literal_list("select distinct rated_date from " ~ ref('int_ratings_touched') ~ " order by 1")) }}
{%- endmacro %}

{% macro touched_case_days() -%}
    {%- set query -%}
        select distinct completed_date from {{ ref('int_cases_rated') }}
        where completed_date is not null and case_no in ({{ touched_case_nos() }})
        order by 1
    {%- endset -%}
    {{ return(literal_list(query)) }}
{%- endmacro %}

{#- The cases whose listing night D's snapshots changed (their latest listing is now one of tonight's):
    an SMS reply takes its agency, item, platform and staff from it. -#}
{% macro listed_case_nos() -%}
    select case_no from {{ ref('int_cases_deduplicated') }}
    where batch_id in ({{ night_batch_ids() }})
{%- endmacro %}
