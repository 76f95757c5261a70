-- 政务服务事项: one row per service item ever listed by master data, as its latest snapshot describes it.
{{ latest_listing(ref('stg_master__service_items'), 'item_code',
    ['item_code', 'item_name', 'org_code', 'case_type', 'promised_days']) }}
