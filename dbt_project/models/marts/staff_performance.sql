-- 人员绩效: every figure of docs/contract.md §8 per staff member and Beijing day or month; peers are the staff of
-- the same agency (the agency master data names for them).
{{ performance('staff_no', ref('dim_staff'), 'org_code') }}
