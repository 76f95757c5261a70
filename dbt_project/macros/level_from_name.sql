{#- A level's Chinese name (hall tablets, the hotline's three-level scale) as the canonical code 1-5. -#}
{% macro level_from_name(column) -%}
    case {{ column }}
        when '非常满意' then 1
        when '满意' then 2
        when '基本满意' then 3
        when '不满意' then 4
        when '非常不满意' then 5
    end
{%- endmacro %}
