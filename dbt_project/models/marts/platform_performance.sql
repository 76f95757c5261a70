-- 平台绩效: every figure of domain.md 7 per platform and Beijing day or month; peers are the platforms of
-- the same type.
{{ performance('platform_code', ref('dim_platforms'), 'platform_type') }}
