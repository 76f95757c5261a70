{#-
    The batches night D merges into the incremental models, as a literal list of ids (or null for none):
    the batches accepted for the nights in the lookback (D itself by default), and the batches whose held
    replies a night in the lookback released. A literal list, not a subquery: the planner then pushes it
    through the staging views onto each raw table's batch index, and estimates it from the statistics.
-#}
{% macro night_batch_ids() -%}
    {%- if not execute -%}{{ return('null') }}{%- endif -%}
    {%- set since = "date '" ~ var('night') ~ "' - " ~ var('lookback_days') -%}
    {%- set query -%}
        select batch_id from {{ source('audit', 'accepted_batches') }}
        where night > {{ since }} and night <= date '{{ var("night") }}'
        union
        select distinct held.batch_id from {{ source('audit', 'held') }} as held
        where held.released_as = 'passed'
            and held.released_night > {{ since }} and held.released_night <= date '{{ var("night") }}'
        order by 1
    {%- endset -%}
    {%- set ids = run_query(query).columns[0].values() -%}
    {{- return(ids | join(', ') if ids else 'null') -}}
{%- endmacro %}
