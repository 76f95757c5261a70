-- 政务服务机构: one row per agency ever listed by master data, as its latest snapshot describes it.
{{ latest_listing(ref('stg_master__agencies'), 'org_code',
    ['org_code', 'org_name', 'parent_org_code', 'area_code', 'admin_level']) }}
