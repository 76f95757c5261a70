-- 工作人员: one row per staff member ever listed by master data, as the latest snapshot describes them.
-- Names stay out of the marts (personal data): BI joins staff_no to the agency's own staff register.
{{ latest_listing(ref('stg_master__staff'), 'staff_no',
    ['staff_no', 'org_code', 'window_no', 'is_active']) }}
