-- Q5: Jan–M demolition (万平方米) against the annual target and last year's total; one row per district,
-- then the city (district_code null). Rates are fractions.
with by_district as (
    select
        fct_demolition_progress_monthly.district_code,
        dim_district.district_name,
        fct_demolition_progress_monthly.ytd_demolished,
        fct_demolition_progress_monthly.annual_target,
        fct_demolition_progress_monthly.prev_year_total_demolished,
        fct_demolition_progress_monthly.ytd_land_mu
    from marts.fct_demolition_progress_monthly
    inner join marts.dim_district
        on fct_demolition_progress_monthly.district_code = dim_district.district_code
    where fct_demolition_progress_monthly.report_month = %(report_month)s
)

select
    district_code,
    coalesce(district_name, '全市') as district_name,
    sum(ytd_demolished) as ytd_demolished,
    sum(annual_target) as annual_target,
    sum(ytd_demolished) / nullif(sum(annual_target), 0) as target_completion_rate,
    sum(prev_year_total_demolished) as prev_year_total_demolished,
    sum(ytd_demolished) / nullif(sum(prev_year_total_demolished), 0) as prev_year_total_rate,
    sum(ytd_land_mu) as ytd_land_mu
from by_district
group by grouping sets ((district_code, district_name), ())
order by district_code asc nulls last
