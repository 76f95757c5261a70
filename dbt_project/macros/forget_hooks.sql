{#- Pre-hooks of incremental models: on an incremental run, delete the rows the night computes again, so a
    row whose source went away goes too (delete+insert only replaces the rows it writes). -#}

{#- int_cases_rated: forget the cases tonight's listings say are not completed (after all). The night's rows
    replace only the completed ones. -#}
{% macro forget_uncompleted_cases() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where case_no in (
            select case_no from {{ ref('int_cases_deduplicated') }}
            where batch_id in ({{ night_batch_ids() }}) and completed_date is null
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- int_bad_reviews: forget the bad reviews of the ratings night D touches. Those still at a bad level are
    computed again; a new version may have taken one out of the bad levels. -#}
{% macro forget_touched_bad_reviews() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where bad_review_key in (select channel || ':' || evaluation_id from {{ ref('int_ratings_touched') }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- int_rectification_orders: forget the orders night D recomputes. -#}
{% macro forget_moved_orders() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where (channel, evaluation_id) in ({{ moved_orders() }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
