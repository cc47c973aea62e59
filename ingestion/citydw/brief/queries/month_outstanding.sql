-- What keeps a provisional month from being certified: every dataset of the month not yet accepted or waived.
select
    department_name,
    dataset_title,
    dataset,
    case
        when is_missing then '未报送'
        when status = 'rejected' then '报送有误被退回'
        else '尚在处理'
    end as what_is_missing
from marts.fct_department_delivery_monthly
where report_month = %(report_month)s and not is_closed
order by department, dataset
