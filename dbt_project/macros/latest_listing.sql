{#-
    A master-data dimension: one row per key ever listed by a snapshot, as its latest snapshot describes it,
    with the first and last snapshot that listed it and whether the newest snapshot still does.
-#}
{% macro latest_listing(relation, key, columns) -%}
with snapshots as (

    select * from {{ relation }}

),

latest as (

    select distinct on ({{ key }})
        {{ columns | join(', ') }},
        snapshot_date as last_listed_on
    from snapshots
    order by {{ key }}, snapshot_date desc, batch_id desc, line_no desc

),

first_listed as (

    select {{ key }}, min(snapshot_date) as first_listed_on
    from snapshots
    group by {{ key }}

),

final as (

    select
        latest.*,
        first_listed.first_listed_on,
        latest.last_listed_on = (select max(snapshot_date) from snapshots) as is_current
    from latest
    inner join first_listed on latest.{{ key }} = first_listed.{{ key }}

)

select * from final
{%- endmacro %}
