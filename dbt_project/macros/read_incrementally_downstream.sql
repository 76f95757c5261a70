{#- Whether a model after this one reads it incrementally tonight: an incremental model whose table exists,
    on a run that does not refresh it whole. A first night and a full refresh build every such model whole,
    and need no list of what the night touched. -#}
{% macro read_incrementally_downstream() -%}
    {%- if not execute -%}{{ return(true) }}{%- endif -%}
    {%- for node in graph.nodes.values()
            if model.unique_id in node.depends_on.nodes and node.config.materialized == 'incremental' -%}
        {%- set full_refresh = node.config.get('full_refresh') -%}
        {%- set full_refresh = flags.FULL_REFRESH if full_refresh is none else full_refresh -%}
        {%- if not full_refresh and adapter.get_relation(node.database, node.schema, node.alias) is not none -%}
            {{- return(true) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return(false) -}}
{%- endmacro %}
