-- One row per facility per report month: the Education Bureau's whole
-- register (中小学和幼儿园设施台账) as of month end, existing and planned.
-- Capacity is in 学位 (school places). facility_id is the unified social
-- credit code once the facility is registered, before that its project code.

with

schools as (

    select * from {{ source('education', 'schools') }}

),

renamed as (

    select
        report_month,
        facility_id,
        name as facility_name,
        type as register_type,
        district as district_code,
        street,
        lng,
        lat,
        capacity,
        status,
        plan_year::integer as plan_year,
        start_date,
        open_date,
        inclusive as is_inclusive,
        delivery_id,
        source_row,
        loaded_at

    from schools

)

select * from renamed
