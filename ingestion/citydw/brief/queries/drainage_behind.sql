-- Q8, the list: zones behind plan (overdue first, then by how far below the linear path), rates as fractions.
select
    fct_drainage_zone_progress_monthly.zone_name,
    dim_district.district_name,
    fct_drainage_zone_progress_monthly.plan_year,
    fct_drainage_zone_progress_monthly.completion_rate,
    fct_drainage_zone_progress_monthly.expected_completion_rate,
    fct_drainage_zone_progress_monthly.completion_gap_pp,
    fct_drainage_zone_progress_monthly.is_overdue
from marts.fct_drainage_zone_progress_monthly
left join marts.dim_district
    on fct_drainage_zone_progress_monthly.district_code = dim_district.district_code
where fct_drainage_zone_progress_monthly.report_month = %(report_month)s
    and fct_drainage_zone_progress_monthly.is_behind_plan
order by
    fct_drainage_zone_progress_monthly.is_overdue desc,
    fct_drainage_zone_progress_monthly.completion_gap_pp asc,
    fct_drainage_zone_progress_monthly.zone_code asc
