-- Q6. Livelihood facilities planned for an earlier year and still not
-- started ("回头看": plan year before the asked month's year, status still
-- 规划), by district and facility type, with this year's plan for context.
-- One row per district × facility type with at least one such facility.
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
    fct_facility_coverage_monthly.carried_over_not_started,
    fct_facility_coverage_monthly.planned_this_year,
    fct_facility_coverage_monthly.started_this_year,
    fct_facility_coverage_monthly.completed_this_year
from marts.fct_facility_coverage_monthly
inner join asked
    on fct_facility_coverage_monthly.report_month = asked.report_month
inner join marts.dim_district
    on fct_facility_coverage_monthly.district_code = dim_district.district_code
where fct_facility_coverage_monthly.carried_over_not_started > 0
order by
    fct_facility_coverage_monthly.facility_type,
    fct_facility_coverage_monthly.district_code
