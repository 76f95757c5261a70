{#- Folders name their schema outright (staging, intermediate, marts): BI users are promised `marts`, not `public_marts`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
