{#- The cases whose listing night D's snapshots changed (their latest listing is now one of tonight's):
    an SMS reply takes its agency, item, platform and staff from it. -#}
{% macro listed_case_nos() -%}
    select case_no from {{ ref('int_cases_deduplicated') }}
    where batch_id in ({{ night_batch_ids() }})
{%- endmacro %}

{#- The cases of the ratings night D rebuilds that tonight's snapshots do not list (listed on earlier
    nights, if at all). EXCEPT, not NOT EXISTS: see touched_case_days. -#}
{% macro cases_listed_before() -%}
    select case_no from {{ ref('int_ratings_touched') }}
    where case_no is not null
    except
    {{ listed_case_nos() }}
{%- endmacro %}
