{#- The columns the performance marts and the published results show after the entity, its name and its peer
    group, in their order (one list, so the five marts and published_performance cannot drift apart). -#}
{% macro performance_columns() -%}
    {{ return([
        'period_grain', 'period_start',
        'rating_count', 'level_1_count', 'level_2_count', 'level_3_count', 'level_4_count', 'level_5_count',
        'default_rating_count', 'avg_points', 'satisfaction_rate', 'bad_review_rate',
        'cases_completed', 'cases_rated', 'evaluation_rate',
        'verifications_decided', 'verifications_on_time', 'on_time_verification_rate',
        'rectifications_decided', 'rectifications_on_time', 'on_time_rectification_rate',
        'performance_score', 'peer_avg_points', 'adjusted_score', 'rank',
        'peer_count', 'is_bottom', 'bottom_streak',
        'previous_adjusted_score', 'score_change', 'previous_rank', 'rank_change',
    ]) }}
{%- endmacro %}
