-- Q6. Livelihood facilities planned for an earlier year and still not
-- started ("回头看": plan year before the report month's year, status still
-- 规划), by district and facility type, with this year's plan for context.
-- One row per district × facility type × report month with at least one.
-- Every report month is returned: let the BI tool's filter pick the month
-- (report_month). One month in psql:
--   select * from marts.question_06_facilities_carried_over_not_started where report_month = date '2022-07-01'
-- One statement, no session setting: runs unchanged in psql, Superset SQL
-- Lab, Metabase and DBeaver as citydw_bi.
-- Reads the view marts.question_06_facilities_carried_over_not_started
-- (dbt_project/models/marts/ten_questions/). No Jinja or double braces here:
-- Metabase reads them as a variable, even in a comment.

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
from marts.question_06_facilities_carried_over_not_started
order by report_month, facility_type, district_code
