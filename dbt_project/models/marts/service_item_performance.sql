{{ config(materialized='view') }}
-- 事项绩效: every figure of docs/contract.md §8 per service item (事项, GB/T 39735) and Beijing day, month, quarter or
-- year; peers are the items of the same case type (即办件, 承诺件). A view of int_performance_scored, which computes
-- every kind of entity at once.
select
    entity_code as item_code, entity_name as item_name, peer_group as case_type,
    {{ performance_columns() | join(', ') }}
from {{ ref('int_performance_scored') }}
where entity_kind = 'service_item'
