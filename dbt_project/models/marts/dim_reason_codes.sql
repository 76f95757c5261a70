-- 差评原因代码: the reason codes a bad review carries (docs/contract.md §3.3), named in Chinese and English.
with reason_codes as (

    select * from {{ ref('reason_codes') }}

),

final as (

    select
        reason_code,
        reason_name::text as reason_name,
        reason_name_en::text as reason_name_en
    from reason_codes

)

select * from final
