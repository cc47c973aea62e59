-- Q8. Drainage compliance zones behind plan: not yet 已达标 and either past
-- their plan year (逾期未达标) or, in their plan year, below the linear path
-- (进度滞后: completion below month ÷ 12). One row per zone behind plan per
-- report month.
-- Every report month is returned: let the BI tool's filter pick the month
-- (report_month). One month in psql:
--   select * from marts.question_08_drainage_zones_behind_plan where report_month = date '2022-07-01'
-- One statement, no session setting: runs unchanged in psql, Superset SQL
-- Lab, Metabase and DBeaver as citydw_bi.
-- Reads the view marts.question_08_drainage_zones_behind_plan
-- (dbt_project/models/marts/ten_questions/). No Jinja or double braces here:
-- Metabase reads them as a variable, even in a comment.

select
    report_month,
    zone_code,
    zone_name,
    district_code,
    district_name,
    plan_year,
    status,
    completion_rate,
    expected_completion_rate,
    completion_gap_pp,
    is_overdue,
    reason
from marts.question_08_drainage_zones_behind_plan
order by report_month, is_overdue desc, completion_gap_pp asc, zone_code
