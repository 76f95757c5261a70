{{ config(materialized='view') }}
-- 机构绩效: every figure of docs/contract.md §8 per agency (by the rating's agency) and Beijing day, month, quarter or
-- year; peers are the agencies of the same admin level. A view of int_performance_scored, which computes every
-- kind of entity at once.
select
    entity_code as org_code, entity_name as org_name, peer_group as admin_level,
    {{ performance_columns() | join(', ') }}
from {{ ref('int_performance_scored') }}
where entity_kind = 'agency'
