{#-
    A data test's `where` may name __night_batch_ids__: the test then reads only the rows of the batches
    night D merges (night_batch_ids), not every night's rows through the staging views.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__night_batch_ids__' in where -%}
            {%- set where = where | replace('__night_batch_ids__', night_batch_ids()) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
