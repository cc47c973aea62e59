-- Q4. Planned projects that have not started, by category, district and
-- cause, per report month. "Planned, not started" = is_start_overdue: not
-- started and the planned start date on or before the end of the month.
-- The cause is the reported 问题类型, 未报告原因 when none is reported.

with

project_progress as (

    select * from {{ ref('fct_project_progress_monthly') }}

),

not_started as (

    select
        report_month,
        category,
        district_code,
        district_name,
        coalesce(blocker_type, '未报告原因') as cause,
        project_name,
        total_investment_wan
    from project_progress
    where is_start_overdue

),

final as (

    select
        report_month,
        category,
        district_code,
        district_name,
        cause,
        count(*) as projects_not_started,
        sum(total_investment_wan) as total_investment_wan,
        string_agg(project_name, '、' order by project_name) as project_names
    from not_started
    group by report_month, category, district_code, district_name, cause

)

{{ contract_typed_select('final') }}
