-- fct_facility_register_monthly lists, one by one, the facilities
-- fct_facility_coverage_monthly counts: per month, district and facility
-- type, the register's rows flagged in service, started, completed and
-- carried over must add up to the coverage mart's counts (and its capacity
-- in service). A list in the brief (回头看) then agrees with question 6.
-- Returns the disagreeing cells; none passes.

with

registers_counted as (

    select
        report_month,
        district_code,
        facility_type,
        count(*) filter (where is_in_service) as facilities_in_service,
        coalesce(sum(capacity) filter (where is_in_service), 0) as capacity_in_service,
        count(*) filter (where is_started_this_year) as started_this_year,
        count(*) filter (where is_completed_this_year) as completed_this_year,
        count(*) filter (where is_carried_over_not_started) as carried_over_not_started,
        count(*) filter (where status = '在建') as facilities_under_construction
    from {{ ref('fct_facility_register_monthly') }}
    group by report_month, district_code, facility_type

),

coverage as (

    select * from {{ ref('fct_facility_coverage_monthly') }}

)

select
    coverage.report_month,
    coverage.district_code,
    coverage.facility_type
from coverage
left join registers_counted
    on
        coverage.report_month = registers_counted.report_month
        and coverage.district_code = registers_counted.district_code
        and coverage.facility_type = registers_counted.facility_type
where
    coverage.facilities_in_service <> coalesce(registers_counted.facilities_in_service, 0)
    or coverage.capacity_in_service <> coalesce(registers_counted.capacity_in_service, 0)
    or coverage.started_this_year <> coalesce(registers_counted.started_this_year, 0)
    or coverage.completed_this_year <> coalesce(registers_counted.completed_this_year, 0)
    or coverage.carried_over_not_started <> coalesce(registers_counted.carried_over_not_started, 0)
    or coverage.facilities_under_construction <> coalesce(registers_counted.facilities_under_construction, 0)
