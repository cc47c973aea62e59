-- Q5. Demolition: Jan–M volume against last year's total and the annual
-- target. One row per district and a city total (district_code null),
-- floor areas in 万平方米, land in 亩, rates as fractions.
-- Month asked: `set citydw.report_month = 'YYYY-MM-01';` first, else the latest month.
-- depends_on: {{ ref('fct_demolition_progress_monthly') }}
-- depends_on: {{ ref('dim_district') }}

with

asked as (

    select
        coalesce(
            nullif(current_setting('citydw.report_month', true), '')::date,
            (select max(report_month) from marts.fct_demolition_progress_monthly)
        ) as report_month

),

by_district as (

    select
        fct_demolition_progress_monthly.report_month,
        fct_demolition_progress_monthly.district_code,
        dim_district.district_name,
        fct_demolition_progress_monthly.ytd_demolished,
        fct_demolition_progress_monthly.annual_target,
        fct_demolition_progress_monthly.prev_year_total_demolished,
        fct_demolition_progress_monthly.ytd_land_mu
    from marts.fct_demolition_progress_monthly
    inner join asked
        on fct_demolition_progress_monthly.report_month = asked.report_month
    inner join marts.dim_district
        on fct_demolition_progress_monthly.district_code = dim_district.district_code

)

select
    report_month,
    district_code,
    coalesce(district_name, '全市') as district_name,
    sum(ytd_demolished) as ytd_demolished,
    sum(annual_target) as annual_target,
    trim_scale(sum(ytd_demolished) / nullif(sum(annual_target), 0)) as target_completion_rate,
    sum(prev_year_total_demolished) as prev_year_total_demolished,
    trim_scale(sum(ytd_demolished) / nullif(sum(prev_year_total_demolished), 0)) as prev_year_total_rate,
    sum(ytd_land_mu) as ytd_land_mu
from by_district
group by grouping sets ((report_month, district_code, district_name), (report_month))
order by district_code asc nulls last
