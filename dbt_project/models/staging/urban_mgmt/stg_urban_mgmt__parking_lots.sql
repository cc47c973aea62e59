-- One row per public car park per report month: the Urban Management
-- Bureau's 公共停车场建设台账 as of month end, existing and planned.
-- Capacity is in parking spaces (泊位).

with

parking_lots as (

    select * from {{ source('urban_mgmt', 'parking_lots') }}

),

renamed as (

    select
        report_month,
        lot_id,
        name as lot_name,
        district as district_code,
        street,
        lng,
        lat,
        spaces,
        status,
        plan_year::integer as plan_year,
        start_date,
        open_date,
        delivery_id,
        source_row,
        loaded_at

    from parking_lots

)

select * from renamed
