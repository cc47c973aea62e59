-- Q10. Which departments delivered late, wrong, or not at all, month by
-- month: every dataset × report month with a missing or late delivery, a
-- rejected one (blocking failures), or rows quarantined. report_month is the
-- month the delivery reports on: pick a month, or a range (January to the
-- month) for the year so far. problem names the worst of the problems.
-- Every report month is returned: let the BI tool's filter pick the month
-- (report_month). One month in psql:
--   select * from marts.question_10_department_deliveries where report_month = date '2022-07-01'
-- One statement, no session setting: runs unchanged in psql, Superset SQL
-- Lab, Metabase and DBeaver as citydw_bi.
-- Reads the view marts.question_10_department_deliveries
-- (dbt_project/models/marts/ten_questions/). No Jinja or double braces here:
-- Metabase reads them as a variable, even in a comment.

select
    report_month,
    department,
    department_name,
    dataset,
    dataset_title,
    problem,
    is_missing,
    is_late,
    working_days_late,
    due_date,
    received_at,
    status,
    status_name,
    versions_received,
    rows_received,
    rows_loaded,
    rows_quarantined,
    blocking_failures,
    warnings
from marts.question_10_department_deliveries
order by report_month, department, dataset
