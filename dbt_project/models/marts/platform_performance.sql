{{ config(materialized='view') }}
-- 平台绩效: every figure of docs/contract.md §8 per platform and Beijing day, month, quarter or year; peers are the
-- platforms of the same type. A view of int_performance_scored, which computes every kind of entity at once.
select
    entity_code as platform_code, entity_name as platform_name, peer_group as platform_type,
    {{ performance_columns() | join(', ') }}
from {{ ref('int_performance_scored') }}
where entity_kind = 'platform'
