-- Q7. Livelihood facility coverage by district against the standard. One
-- row per district × facility type × report month: capacity in service per
-- 1000 residents against the per-1000 standard, and the share of residents
-- within the type's service radius of an in-service facility.

with

facility_coverage as (

    select * from {{ ref('fct_facility_coverage_monthly') }}

),

final as (

    select
        report_month,
        district_code,
        district_name,
        facility_type,
        facility_type_name,
        facilities_in_service,
        capacity_in_service,
        capacity_unit,
        resident_population,
        capacity_per_1000,
        standard_per_1000,
        meets_standard,
        residents_within_radius_share,
        service_radius_m
    from facility_coverage

)

{{ contract_typed_select('final') }}
