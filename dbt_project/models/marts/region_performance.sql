{{ config(materialized='view') }}
-- 区划绩效: every figure of docs/contract.md §8 per region (区划: township, county, city, province from the area code,
-- each from its own ratings) and Beijing day, month, quarter or year; peers are the regions of the same level. A
-- view of int_performance_scored, which computes every kind of entity at once.
select
    entity_code as region_code, entity_name as region_name, peer_group as region_level,
    {{ performance_columns() | join(', ') }}
from {{ ref('int_performance_scored') }}
where entity_kind = 'region'
