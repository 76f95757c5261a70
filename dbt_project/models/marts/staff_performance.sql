-- 人员绩效: every figure of docs/contract.md §8 per staff member and Beijing day or month; peers are the staff of
-- the same agency (the agency master data names for them).
-- depends_on: {{ ref('fct_bad_reviews') }} (after its tests: the deadline figures count its bad reviews)
select
    entity_code as staff_no, peer_group as org_code, {{ performance_columns() | join(', ') }}
from {{ ref('int_performance_scored') }}
where entity_kind = 'staff'
