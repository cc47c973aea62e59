-- Q10, the year so far: per department, months × datasets delivered late, rejected, missing, with quarantined rows.
select
    department_name,
    count(*) as deliveries_due,
    count(*) filter (where is_late) as late,
    count(*) filter (where blocking_failures > 0) as rejected,
    count(*) filter (where is_missing) as missing,
    count(*) filter (where rows_quarantined > 0) as with_quarantined_rows
from marts.fct_department_delivery_monthly
where report_month between date_trunc('year', %(report_month)s::date)::date and %(report_month)s
group by department, department_name
order by count(*) filter (where is_missing or is_late or blocking_failures > 0) desc, department
