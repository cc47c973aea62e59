-- Q6. Livelihood facilities planned for an earlier year and still not
-- started ("回头看": plan year before the report month's year, status still
-- 规划), by district and facility type, with this year's plan for context.
-- One row per district × facility type × report month with at least one.

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
        carried_over_not_started,
        planned_this_year,
        started_this_year,
        completed_this_year
    from facility_coverage
    where carried_over_not_started > 0

)

{{ contract_typed_select('final') }}
