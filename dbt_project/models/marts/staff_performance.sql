{{ config(materialized='view') }}
-- 人员绩效: every figure of docs/contract.md §8 per staff member (by number only: names stay out of the marts) and
-- Beijing day, month, quarter or year; peers are the staff of the same agency. A view of int_performance_scored,
-- which computes every kind of entity at once.
select
    entity_code as staff_no, peer_group as org_code,
    {{ performance_columns() | join(', ') }}
from {{ ref('int_performance_scored') }}
where entity_kind = 'staff'
