{#-
    The values a query returns (dates, codes: nothing with a quote), as a literal SQL list, null for none;
    run when the model runs. Named outright, the planner estimates them from the statistics and takes the
    index, where a subquery on a table just built would be a guess.
-#}
{% macro literal_list(query) -%}
    {%- if not execute -%}{{ return('null') }}{%- endif -%}
    {%- set quoted = [] -%}
    {%- for value in run_query(query).columns[0].values() -%}
        {%- do quoted.append("'" ~ value ~ "'") -%}
    {%- endfor -%}
    {{- return(quoted | join(', ') if quoted else 'null') -}}
{%- endmacro %}
