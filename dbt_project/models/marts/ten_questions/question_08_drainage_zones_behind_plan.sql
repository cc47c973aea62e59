-- Q8. Drainage compliance zones behind plan: not yet 已达标 and either past
-- their plan year (逾期未达标) or, in their plan year, below the linear path
-- (进度滞后: completion below month ÷ 12). One row per zone behind plan per
-- report month.

with

drainage_zone_progress as (

    select * from {{ ref('fct_drainage_zone_progress_monthly') }}

),

final as (

    select
        report_month,
        zone_code,
        zone_name,
        district_code,
        district_name,
        plan_year,
        status,
        completion_rate,
        expected_completion_rate,
        completion_gap_pp,
        is_overdue,
        case when is_overdue then '逾期未达标' else '进度滞后' end as reason
    from drainage_zone_progress
    where is_behind_plan

)

{{ contract_typed_select('final') }}
