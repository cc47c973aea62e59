-- Q9. "三级三类" spatial plans by level, type and status: how many plans of
-- each level (市级/县级/乡级) and type (总体规划/详细规划/相关专项规划) are in
-- each status, and how many are overdue for approval. One row per level ×
-- type × status per report month; the *_order columns sort them as a
-- planner reads them.

with

spatial_plan_progress as (

    select * from {{ ref('fct_spatial_plan_progress_monthly') }}

),

final as (

    select
        report_month,
        plan_level,
        plan_type,
        status,
        count(*) as plans,
        count(*) filter (where is_approval_overdue) as plans_overdue,
        array_position(array['市级', '县级', '乡级'], plan_level) as plan_level_order,
        array_position(array['总体规划', '详细规划', '相关专项规划'], plan_type) as plan_type_order,
        array_position(array['未启动', '编制中', '报批中', '已批复'], status) as status_order
    from spatial_plan_progress
    group by report_month, plan_level, plan_type, status

)

{{ contract_typed_select('final') }}
