{#- The days night D counts again: those of the ratings it rebuilds, and the days its versions moved them
    from (int_ratings_deduplicated keeps them on the versions the night landed, by its batch index). -#}
{% macro touched_rating_days() -%}
    {%- if execute and not is_incremental() -%}{{ return('null') }}{%- endif -%}  {#- a full build counts every day #}
    {%- set query -%}
        -- group by, not only union: a million dates are hashed into a few, not sorted
        select rated_date from {{ ref('int_ratings_touched') }} group by rated_date
        union
        select replaced_rated_date from {{ ref('int_ratings_deduplicated') }}
        where batch_id in ({{ night_batch_ids() }}) and replaced_rated_date is not null
        order by 1
    {%- endset -%}
    {{ return(literal_list(query)) }}
{%- endmacro %}

{#- The days of the cases night D redoes, and the days its listings moved them from. -#}
{% macro touched_case_days() -%}
    {%- if execute and not is_incremental() -%}{{ return('null') }}{%- endif -%}  {#- a full build counts every day #}
    {#- A case tonight's snapshots list has its day on tonight's listing, which the batch index reads; only
        the cases of touched ratings listed on earlier nights are looked up, each by its index (lateral,
        LIMIT 1). Looking up all 1.3M touched cases took 9-12 s at 1M a night, against 2-6 s. EXCEPT, not NOT
        EXISTS: the statistics do not know tonight's batches yet (on 30 nights no autovacuum analyzes them),
        and an anti-join planned on one listed row scanned them all again for every touched case. -#}
    {%- set query -%}
        select days.completed_date
        from {{ ref('int_cases_deduplicated') }} as listed
        cross join lateral (
            values (listed.completed_date), (listed.replaced_completed_date)
        ) as days (completed_date)
        where listed.batch_id in ({{ night_batch_ids() }}) and days.completed_date is not null
        group by days.completed_date
        union
        select cases.completed_date
        from ({{ cases_listed_before() }}) as listed_before
        cross join lateral (
            select completed_date from {{ ref('int_cases_rated') }} as cases
            where cases.case_no = listed_before.case_no and cases.completed_date is not null
            limit 1
        ) as cases
        group by cases.completed_date
        order by 1
    {%- endset -%}
    {{ return(literal_list(query)) }}
{%- endmacro %}

{#- The cases whose listing night D's snapshots changed (their latest listing is now one of tonight's):
    an SMS reply takes its agency, item, platform and staff from it. -#}
{% macro listed_case_nos() -%}
    select case_no from {{ ref('int_cases_deduplicated') }}
    where batch_id in ({{ night_batch_ids() }})
{%- endmacro %}

{#- The cases of the ratings night D rebuilds that tonight's snapshots do not list (listed on earlier
    nights, if at all). EXCEPT, not NOT EXISTS: see touched_case_days. -#}
{% macro cases_listed_before() -%}
    select case_no from {{ ref('int_ratings_touched') }}
    where case_no is not null
    except
    {{ listed_case_nos() }}
{%- endmacro %}

{#- A pre-hook for int_cases_rated: forget the cases tonight's listings say are not completed (after all). The
    night's rows replace only the completed ones. -#}
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

{#- A pre-hook for int_bad_reviews: forget the bad reviews of the ratings night D touches. Those still at a
    bad level are computed again; a new version may have taken one out of the bad levels. -#}
{% macro forget_touched_bad_reviews() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where bad_review_key in (select channel || ':' || evaluation_id from {{ ref('int_ratings_touched') }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The work orders night D recomputes: those of the events its batches brought new or changed (and the
    order such an event belonged to before), and those of the events timed in the lookback days (an event
    delivered before its time becomes known on its own day). By int_rectification_events' indexes. -#}
{% macro moved_orders() -%}
    {%- set since = "date '" ~ var('night') ~ "' - " ~ var('lookback_days') -%}
    {%- set night = "date '" ~ var('night') ~ "'" -%}
    select moved.channel, moved.evaluation_id
    from {{ ref('int_rectification_events') }} as events
    cross join lateral (
        values (events.channel, events.evaluation_id), (events.replaced_channel, events.replaced_evaluation_id)
    ) as moved (channel, evaluation_id)
    where events.changed_night > {{ since }} and events.changed_night <= {{ night }}
        and moved.channel is not null
    union
    select channel, evaluation_id from {{ ref('int_rectification_events') }}
    where event_date > {{ since }} and event_date <= {{ night }}
{%- endmacro %}

{#- A pre-hook for int_rectification_orders: forget the orders night D recomputes. -#}
{% macro forget_moved_orders() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where (channel, evaluation_id) in ({{ moved_orders() }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

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
