-- Q8: drainage compliance zones: how many, how many compliant, behind plan and overdue.
select
    count(*) as zones,
    count(*) filter (where is_compliant) as zones_compliant,
    count(*) filter (where is_behind_plan) as zones_behind_plan,
    count(*) filter (where is_overdue) as zones_overdue,
    count(*) filter (where plan_year = extract(year from %(report_month)s::date)) as zones_planned_this_year
from marts.fct_drainage_zone_progress_monthly
where report_month = %(report_month)s
