-- Q9, the list: plans past their planned approval date and not approved.
select
    plan_name,
    plan_level,
    plan_type,
    status,
    planned_approval_date,
    days_overdue
from marts.fct_spatial_plan_progress_monthly
where report_month = %(report_month)s and is_approval_overdue
order by days_overdue desc, plan_code
