-- One row per facility per report month across the four facility registers
-- (schools and kindergartens, primary care, elderly care, public car parks),
-- in one shape: the register's own type word, capacity in the register's
-- unit (places, beds or spaces). The parking ledger has no type column; its
-- rows get the type word 公共停车场 that facility_type_mapping maps.

with

schools as (

    select * from {{ ref('stg_education__schools') }}

),

clinics as (

    select * from {{ ref('stg_health__clinics') }}

),

elderly_care as (

    select * from {{ ref('stg_civil_affairs__elderly_care') }}

),

parking_lots as (

    select * from {{ ref('stg_urban_mgmt__parking_lots') }}

),

facilities_unioned as (

    select
        report_month,
        'education.schools'::text as source_dataset,
        'education'::text as source_department,
        facility_id,
        facility_name,
        register_type,
        district_code,
        street,
        lng,
        lat,
        capacity,
        status,
        plan_year,
        start_date,
        open_date,
        is_inclusive,
        delivery_id,
        loaded_at
    from schools

    union all

    select
        report_month,
        'health.clinics'::text as source_dataset,
        'health'::text as source_department,
        facility_id,
        facility_name,
        register_type,
        district_code,
        street,
        lng,
        lat,
        capacity,
        status,
        plan_year,
        start_date,
        open_date,
        null::boolean as is_inclusive,
        delivery_id,
        loaded_at
    from clinics

    union all

    select
        report_month,
        'civil_affairs.elderly_care'::text as source_dataset,
        'civil_affairs'::text as source_department,
        facility_id,
        facility_name,
        register_type,
        district_code,
        street,
        lng,
        lat,
        capacity,
        status,
        plan_year,
        start_date,
        open_date,
        null::boolean as is_inclusive,
        delivery_id,
        loaded_at
    from elderly_care

    union all

    select
        report_month,
        'urban_mgmt.parking_lots'::text as source_dataset,
        'urban_mgmt'::text as source_department,
        lot_id as facility_id,
        lot_name as facility_name,
        '公共停车场'::text as register_type,
        district_code,
        street,
        lng,
        lat,
        spaces as capacity,
        status,
        plan_year,
        start_date,
        open_date,
        null::boolean as is_inclusive,
        delivery_id,
        loaded_at
    from parking_lots

)

select * from facilities_unioned
