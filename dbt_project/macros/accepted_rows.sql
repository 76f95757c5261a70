{#-
    The rows of a raw table that staging may read: from accepted batches (landed whole, validated,
    reconciled, no failing batch rule), less the rows quarantined and the rows still held.
-#}
{% macro accepted_rows(relation) -%}
    select raw_rows.*
    from {{ relation }} as raw_rows
    where raw_rows._batch_id in (
            -- night D knows the batches of nights up to D, so a backfill sees what that night saw
            select batch_id from {{ source('audit', 'accepted_batches') }} where night <= date '{{ var("night") }}'
        )
        and not exists (
            select 1 from {{ source('audit', 'quarantine') }} as quarantined
            where quarantined.batch_id = raw_rows._batch_id
                and quarantined.source_page = raw_rows._source_page
                and quarantined.line_no = raw_rows._line_no
        )
        and not exists (
            select 1 from {{ source('audit', 'held') }} as held
            where held.batch_id = raw_rows._batch_id
                and held.source_page = raw_rows._source_page
                and held.line_no = raw_rows._line_no
                and held.released_as is distinct from 'passed'
        )
{%- endmacro %}
