-- One row per livelihood facility type of fct_facility_coverage_monthly,
-- with its Chinese name, unit and standards: from the facility_standards
-- seed (configuration), so a BI tool labels the types without the seed.
-- Merged into, not replaced: the fact's foreign key points here.

{{ config(**dimension_config('facility_type')) }}

with

facility_standards as (

    select * from {{ ref('facility_standards') }}

),

final as (

    select
        facility_type,
        facility_type_name,
        capacity_unit,
        service_radius_m,
        standard_per_1000
    from facility_standards

)

{{ contract_typed_select('final') }}
