-- 平台绩效: every figure of docs/contract.md §8 per platform and Beijing day or month; peers are the platforms of
-- the same type.
{{ performance('platform_code', ref('dim_platforms'), 'platform_type') }}
