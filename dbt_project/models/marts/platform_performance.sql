-- 平台绩效: every figure of docs/contract.md §8 per platform and Beijing day or month; peers are the platforms of
-- the same type.
-- depends_on: {{ ref('fct_bad_reviews') }} (after its tests: the deadline figures count its bad reviews)
select
    entity_code as platform_code, peer_group as platform_type, {{ performance_columns() | join(', ') }}
from {{ ref('int_performance_scored') }}
where entity_kind = 'platform'
