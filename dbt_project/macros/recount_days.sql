{#-
    A pre-hook for the daily counts: on an incremental run, delete the days about to be counted again, so
    a day whose last counted row went away is emptied too (delete+insert would leave its old rows).
-#}
{% macro recount_days(date_column, days) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ date_column }} in ({{ days }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
