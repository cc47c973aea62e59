-- Q9. "三级三类" spatial plans by level, type and status: how many plans of
-- each level (市级/县级/乡级) and type (总体规划/详细规划/相关专项规划) are in
-- each status, and how many are overdue for approval. One row per level ×
-- type × status per report month; the *_order columns sort them as a
-- planner reads them.
-- Every report month is returned: let the BI tool's filter pick the month
-- (report_month). One month in psql:
--   select * from marts.question_09_spatial_plans_by_level_type_status where report_month = date '2022-07-01'
-- One statement, no session setting: runs unchanged in psql, Superset SQL
-- Lab, Metabase and DBeaver as citydw_bi.
-- Reads the view marts.question_09_spatial_plans_by_level_type_status
-- (dbt_project/models/marts/ten_questions/). No Jinja or double braces here:
-- Metabase reads them as a variable, even in a comment.

select
    report_month,
    plan_level,
    plan_type,
    status,
    plans,
    plans_overdue,
    plan_level_order,
    plan_type_order,
    status_order
from marts.question_09_spatial_plans_by_level_type_status
order by report_month, plan_level_order, plan_type_order, status_order
