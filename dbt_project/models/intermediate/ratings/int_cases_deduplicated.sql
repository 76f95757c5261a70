{{
    config(
        materialized='incremental',
        unique_key='case_no',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['case_no'], 'unique': true},
            {'columns': ['batch_id']},
        ],
    )
}}
-- A case (办件) may be listed by more than one snapshot: the latest listing describes it.
-- Incremental: a night weighs the listings its batches bring against the listing kept so far.
with listed as (

    select * from {{ ref('stg_master__cases') }}
    {%- if is_incremental() %}
    where batch_id in ({{ night_batch_ids() }})
    {%- endif %}

),

{% if is_incremental() %}

listings as (

    select * from listed
    union all
    select * from {{ this }}
    where case_no in (select case_no from listed)

)

{% else %}

listings as (

    select * from listed

)

{% endif %}

select distinct on (case_no) *
from listings
order by case_no, snapshot_date desc, batch_id desc, line_no desc
