-- Q8. Drainage compliance zones behind plan: not yet 已达标 and either
-- past their plan year (overdue) or, in their plan year, below the linear
-- path (completion below month ÷ 12). One row per zone behind plan.
-- Month asked: `set citydw.report_month = 'YYYY-MM-01';` first, else the latest month.
-- depends_on: {{ ref('fct_drainage_zone_progress_monthly') }}
-- depends_on: {{ ref('dim_district') }}

with

asked as (

    select
        coalesce(
            nullif(current_setting('citydw.report_month', true), '')::date,
            (select max(report_month) from marts.fct_drainage_zone_progress_monthly)
        ) as report_month

)

select
    fct_drainage_zone_progress_monthly.report_month,
    fct_drainage_zone_progress_monthly.zone_code,
    fct_drainage_zone_progress_monthly.zone_name,
    fct_drainage_zone_progress_monthly.district_code,
    dim_district.district_name,
    fct_drainage_zone_progress_monthly.plan_year,
    fct_drainage_zone_progress_monthly.status,
    fct_drainage_zone_progress_monthly.completion_rate,
    fct_drainage_zone_progress_monthly.expected_completion_rate,
    fct_drainage_zone_progress_monthly.completion_gap_pp,
    case
        when fct_drainage_zone_progress_monthly.is_overdue then '逾期未达标'
        else '进度滞后'
    end as reason
from marts.fct_drainage_zone_progress_monthly
inner join asked
    on fct_drainage_zone_progress_monthly.report_month = asked.report_month
left join marts.dim_district
    on fct_drainage_zone_progress_monthly.district_code = dim_district.district_code
where fct_drainage_zone_progress_monthly.is_behind_plan
order by
    fct_drainage_zone_progress_monthly.is_overdue desc,
    fct_drainage_zone_progress_monthly.completion_gap_pp asc,
    fct_drainage_zone_progress_monthly.zone_code asc
