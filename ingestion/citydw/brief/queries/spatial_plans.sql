-- Q9: "三级三类" spatial plans by level, type and status, with those overdue for approval.
select
    plan_level,
    plan_type,
    status,
    count(*) as plans,
    count(*) filter (where is_approval_overdue) as plans_overdue
from marts.fct_spatial_plan_progress_monthly
where report_month = %(report_month)s
group by plan_level, plan_type, status
order by
    array_position(array['市级', '县级', '乡级'], plan_level),
    array_position(array['总体规划', '详细规划', '相关专项规划'], plan_type),
    array_position(array['未启动', '编制中', '报批中', '已批复'], status)
