-- Q4, the totals: projects reported this month, those planned to start by the month's end, started, overdue.
select
    count(*) as projects,
    count(*) filter (where planned_start_date <= (%(report_month)s::date + interval '1 month' - interval '1 day'))
        as planned_by_month_end,
    count(*) filter (
        where is_started
        and planned_start_date <= (%(report_month)s::date + interval '1 month' - interval '1 day')
    ) as started_of_planned,
    count(*) filter (where is_start_overdue) as not_started,
    coalesce(sum(total_investment_wan) filter (where is_start_overdue), 0) as not_started_investment_wan,
    coalesce(sum(ytd_investment_wan), 0) as ytd_investment_wan,
    coalesce(sum(annual_plan_investment_wan), 0) as annual_plan_investment_wan,
    count(*) filter (
        where is_started
        and planned_start_date <= (%(report_month)s::date + interval '1 month' - interval '1 day')
    )::numeric
    / nullif(count(*) filter (
        where planned_start_date <= (%(report_month)s::date + interval '1 month' - interval '1 day')
    ), 0) as start_rate,
    sum(ytd_investment_wan) / nullif(sum(annual_plan_investment_wan), 0) as annual_investment_rate
from marts.fct_project_progress_monthly
where report_month = %(report_month)s
