-- Q4. Planned projects that have not started, by category, district and
-- cause. "Planned, not started" = is_start_overdue: not started and the
-- planned start date is on or before the end of the month. The cause is
-- the reported 问题类型 (要素保障, 征地拆迁, 行政审批, 考古勘探, 资金, 其他),
-- 未报告原因 when none is reported. One row per category × district × cause.
-- Month asked: `set citydw.report_month = 'YYYY-MM-01';` first, else the latest month.
-- depends_on: {{ ref('fct_project_progress_monthly') }}
-- depends_on: {{ ref('dim_district') }}

with

asked as (

    select
        coalesce(
            nullif(current_setting('citydw.report_month', true), '')::date,
            (select max(report_month) from marts.fct_project_progress_monthly)
        ) as report_month

)

select
    fct_project_progress_monthly.report_month,
    fct_project_progress_monthly.category,
    fct_project_progress_monthly.district_code,
    dim_district.district_name,
    coalesce(fct_project_progress_monthly.blocker_type, '未报告原因') as cause,
    count(*) as projects_not_started,
    sum(fct_project_progress_monthly.total_investment_wan) as total_investment_wan,
    string_agg(
        fct_project_progress_monthly.project_name, '、'
        order by fct_project_progress_monthly.project_name
    ) as project_names
from marts.fct_project_progress_monthly
inner join asked
    on fct_project_progress_monthly.report_month = asked.report_month
inner join marts.dim_district
    on fct_project_progress_monthly.district_code = dim_district.district_code
where fct_project_progress_monthly.is_start_overdue
group by
    fct_project_progress_monthly.report_month,
    fct_project_progress_monthly.category,
    fct_project_progress_monthly.district_code,
    dim_district.district_name,
    coalesce(fct_project_progress_monthly.blocker_type, '未报告原因')
order by
    fct_project_progress_monthly.category,
    fct_project_progress_monthly.district_code,
    cause
