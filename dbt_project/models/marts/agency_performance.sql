-- 机构绩效: every figure of docs/contract.md §8 per agency (by the rating's agency) and Beijing day or month;
-- peers are the agencies of the same admin level.
{{ performance('org_code', ref('dim_agencies'), 'admin_level') }}
