-- Q7. Livelihood facility coverage by district against the standard.
-- One row per district × facility type: capacity in service per 1000
-- residents against the per-1000 standard, and the share of residents
-- within the type's service radius of an in-service facility.
-- Month asked: `set citydw.report_month = 'YYYY-MM-01';` first, else the latest month.
-- depends_on: {{ ref('fct_facility_coverage_monthly') }}
-- depends_on: {{ ref('dim_district') }}

with

asked as (

    select
        coalesce(
            nullif(current_setting('citydw.report_month', true), '')::date,
            (select max(report_month) from marts.fct_facility_coverage_monthly)
        ) as report_month

)

select
    fct_facility_coverage_monthly.report_month,
    fct_facility_coverage_monthly.district_code,
    dim_district.district_name,
    fct_facility_coverage_monthly.facility_type,
    fct_facility_coverage_monthly.facilities_in_service,
    fct_facility_coverage_monthly.capacity_in_service,
    fct_facility_coverage_monthly.capacity_unit,
    fct_facility_coverage_monthly.resident_population,
    round(fct_facility_coverage_monthly.capacity_per_1000, 2) as capacity_per_1000,
    fct_facility_coverage_monthly.standard_per_1000,
    fct_facility_coverage_monthly.meets_standard,
    fct_facility_coverage_monthly.residents_within_radius_share,
    fct_facility_coverage_monthly.service_radius_m
from marts.fct_facility_coverage_monthly
inner join asked
    on fct_facility_coverage_monthly.report_month = asked.report_month
inner join marts.dim_district
    on fct_facility_coverage_monthly.district_code = dim_district.district_code
order by
    fct_facility_coverage_monthly.facility_type,
    fct_facility_coverage_monthly.district_code
