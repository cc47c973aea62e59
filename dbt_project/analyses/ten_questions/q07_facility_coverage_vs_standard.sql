-- Q7. Livelihood facility coverage by district against the standard. One
-- row per district × facility type × report month: capacity in service per
-- 1000 residents against the per-1000 standard, and the share of residents
-- within the type's service radius of an in-service facility.
-- Every report month is returned: let the BI tool's filter pick the month
-- (report_month). One month in psql:
--   select * from marts.question_07_facility_coverage_vs_standard where report_month = date '2022-07-01'
-- One statement, no session setting: runs unchanged in psql, Superset SQL
-- Lab, Metabase and DBeaver as citydw_bi.
-- Reads the view marts.question_07_facility_coverage_vs_standard
-- (dbt_project/models/marts/ten_questions/). No Jinja or double braces here:
-- Metabase reads them as a variable, even in a comment.

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
from marts.question_07_facility_coverage_vs_standard
order by report_month, facility_type, district_code
