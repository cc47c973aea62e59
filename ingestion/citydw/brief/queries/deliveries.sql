-- Q10, this month: every dataset delivered late, wrong (rejected, or rows quarantined) or not at all.
-- Days late only for what has arrived: a missing delivery's count grows every day, and the brief (and its
-- fingerprint, which decides whether it is sent again) must change with the data, not with the calendar.
select
    department_name,
    dataset_title,
    case
        when is_missing then '未报送'
        when blocking_failures > 0 then '报送有误（被退回）'
        when is_late then '逾期报送'
        else '部分数据有误'
    end as problem,
    is_missing,
    is_late,
    case when is_missing then null else working_days_late end as working_days_late,
    due_date,
    rows_quarantined,
    blocking_failures
from marts.fct_department_delivery_monthly
where report_month = %(report_month)s
    and (is_missing or is_late or blocking_failures > 0 or rows_quarantined > 0)
order by department, dataset
