-- Q4, the list: planned projects not started by the month's end, with the reported cause (问题类型).
select
    fct_project_progress_monthly.project_name,
    fct_project_progress_monthly.category,
    dim_district.district_name,
    fct_project_progress_monthly.total_investment_wan,
    fct_project_progress_monthly.planned_start_date,
    coalesce(fct_project_progress_monthly.blocker_type, '未报告原因') as cause,
    fct_project_progress_monthly.blocker_note
from marts.fct_project_progress_monthly
left join marts.dim_district
    on fct_project_progress_monthly.district_code = dim_district.district_code
where fct_project_progress_monthly.report_month = %(report_month)s and fct_project_progress_monthly.is_start_overdue
order by
    array_position(array['要素保障', '征地拆迁', '行政审批', '考古勘探'], fct_project_progress_monthly.blocker_type)
    nulls last,
    fct_project_progress_monthly.total_investment_wan desc,
    fct_project_progress_monthly.project_code
