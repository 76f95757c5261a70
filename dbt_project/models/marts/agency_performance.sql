-- 机构绩效: every figure of docs/contract.md §8 per agency (by the rating's agency) and Beijing day or month;
-- peers are the agencies of the same admin level.
-- depends_on: {{ ref('fct_bad_reviews') }} (after its tests: the deadline figures count its bad reviews)
select
    entity_code as org_code, peer_group as admin_level, {{ performance_columns() | join(', ') }}
from {{ ref('int_performance_scored') }}
where entity_kind = 'agency'
