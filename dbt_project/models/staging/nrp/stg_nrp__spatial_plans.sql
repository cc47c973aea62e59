-- One row per territorial spatial plan ("三级三类") per report month, from
-- the 国土空间规划编制进度表. A city-level plan may have no district.

with

spatial_plans as (

    select * from {{ source('nrp', 'spatial_plans') }}

),

renamed as (

    select
        report_month,
        plan_code,
        plan_name,
        plan_level,
        plan_type,
        district as district_code,
        status,
        planned_approval_date,
        approval_date,
        delivery_id,
        source_row,
        loaded_at

    from spatial_plans

)

select * from renamed
