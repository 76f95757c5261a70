-- 政务服务平台: one row per platform ever listed by master data, as its latest snapshot describes it.
{{ latest_listing(ref('stg_master__platforms'), 'platform_code',
    ['platform_code', 'platform_name', 'platform_type', 'org_code']) }}
