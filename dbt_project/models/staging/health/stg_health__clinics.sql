-- One row per facility per report month: the department's whole register
-- (基层医疗卫生机构设施台账) as of month end, existing and planned. Capacity is
-- in beds. facility_id is the unified social credit code once the
-- facility is registered, before that its project code.

with

clinics as (

    select * from {{ source('health', 'clinics') }}

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
        delivery_id,
        source_row,
        loaded_at

    from clinics

)

select * from renamed
