-- Q9. "三级三类" spatial plans by level, type and status: how many plans of
-- each level (市级/县级/乡级) and type (总体规划/详细规划/相关专项规划) are in
-- each status, and how many of them are overdue for approval.
-- One row per level × type × status.
-- Month asked: `set citydw.report_month = 'YYYY-MM-01';` first, else the latest month.
-- depends_on: {{ ref('fct_spatial_plan_progress_monthly') }}

with

asked as (

    select
        coalesce(
            nullif(current_setting('citydw.report_month', true), '')::date,
            (select max(report_month) from marts.fct_spatial_plan_progress_monthly)
        ) as report_month

)

select
    fct_spatial_plan_progress_monthly.report_month,
    fct_spatial_plan_progress_monthly.plan_level,
    fct_spatial_plan_progress_monthly.plan_type,
    fct_spatial_plan_progress_monthly.status,
    count(*) as plans,
    count(*) filter (where fct_spatial_plan_progress_monthly.is_approval_overdue) as plans_overdue
from marts.fct_spatial_plan_progress_monthly
inner join asked
    on fct_spatial_plan_progress_monthly.report_month = asked.report_month
group by
    fct_spatial_plan_progress_monthly.report_month,
    fct_spatial_plan_progress_monthly.plan_level,
    fct_spatial_plan_progress_monthly.plan_type,
    fct_spatial_plan_progress_monthly.status
order by
    array_position(array['市级', '县级', '乡级'], fct_spatial_plan_progress_monthly.plan_level),
    array_position(array['总体规划', '详细规划', '相关专项规划'], fct_spatial_plan_progress_monthly.plan_type),
    array_position(array['未启动', '编制中', '报批中', '已批复'], fct_spatial_plan_progress_monthly.status)
