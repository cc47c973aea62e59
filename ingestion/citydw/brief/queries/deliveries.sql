-- Q10, this month: every dataset delivered late, wrong (rejected, or rows quarantined) or not at all, as
-- the question's view (marts.question_10_department_deliveries) names the problem.
-- Days late only for what has arrived: a missing delivery's count grows every day, and the brief (and its
-- fingerprint, which decides whether it is sent again) must change with the data, not with the calendar.
select
    department_name,
    dataset_title,
    problem,
    is_missing,
    is_late,
    case when is_missing then null else working_days_late end as working_days_late,
    due_date,
    rows_quarantined,
    blocking_failures
from marts.question_10_department_deliveries
where report_month = %(report_month)s
order by department, dataset
