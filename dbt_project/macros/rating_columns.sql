{#- The columns every channel's ratings share from int_ratings_unioned on (one list, so the merge of new
    versions into int_ratings_deduplicated cannot drift from the union). -#}
{% macro rating_columns() -%}
    {{ return([
        'channel', 'evaluation_id', 'case_no', 'item_code', 'org_code', 'area_code', 'platform_code', 'staff_no',
        'level_code', 'reason_codes', 'comment_text', 'rater_key', 'rated_at', 'rated_date', 'updated_at',
        'is_default_rating', 'is_withdrawn', 'rating_seq', 'batch_id', 'line_no',
    ]) }}
{%- endmacro %}
