{#- The columns the performance marts show after the entity and its peer group, in their order (one list, so
    the three marts and int_performance_scored cannot drift apart). -#}
{% macro performance_columns() -%}
    {{ return([
        'period_grain', 'period_start',
        'rating_count', 'level_1_count', 'level_2_count', 'level_3_count', 'level_4_count', 'level_5_count',
        'default_rating_count', 'avg_points', 'satisfaction_rate', 'bad_review_rate',
        'cases_completed', 'cases_rated', 'evaluation_rate',
        'verifications_decided', 'verifications_on_time', 'on_time_verification_rate',
        'rectifications_decided', 'rectifications_on_time', 'on_time_rectification_rate',
        'performance_score', 'peer_avg_points', 'adjusted_score', 'rank',
    ]) }}
{%- endmacro %}
