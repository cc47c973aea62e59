-- Q4. Planned projects that have not started, by category, district and
-- cause, per report month. "Planned, not started" = is_start_overdue: not
-- started and the planned start date on or before the end of the month.
-- The cause is the reported 问题类型, 未报告原因 when none is reported.
-- Every report month is returned: let the BI tool's filter pick the month
-- (report_month). One month in psql:
--   select * from marts.question_04_projects_not_started where report_month = date '2022-07-01'
-- One statement, no session setting: runs unchanged in psql, Superset SQL
-- Lab, Metabase and DBeaver as citydw_bi.
-- Reads the view marts.question_04_projects_not_started
-- (dbt_project/models/marts/ten_questions/). No Jinja or double braces here:
-- Metabase reads them as a variable, even in a comment.

select
    report_month,
    category,
    district_code,
    district_name,
    cause,
    projects_not_started,
    total_investment_wan,
    project_names
from marts.question_04_projects_not_started
order by report_month, category, district_code, cause
