{{ config(materialized='table', indexes=[{'columns': ['case_no'], 'unique': true}]) }}
-- A case (办件) may be listed by more than one snapshot: the latest listing describes it.
with cases as (

    select * from {{ ref('stg_master__cases') }}

)

select distinct on (case_no) *
from cases
order by case_no, snapshot_date desc, batch_id desc, line_no desc
