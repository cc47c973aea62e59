-- One row per facility per report month: the department's whole register
-- (养老服务设施台账) as of month end, existing and planned. Capacity is
-- in beds. facility_id is the unified social credit code once the
-- facility is registered, before that its project code.

with

elderly_care as (

    select * from {{ source('civil_affairs', 'elderly_care') }}

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

    from elderly_care

)

select * from renamed
