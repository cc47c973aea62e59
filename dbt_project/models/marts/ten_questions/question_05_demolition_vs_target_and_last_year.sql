-- Q5. Demolition: Jan–M volume against last year's total and the annual
-- target. One row per district per report month, and a city total
-- (district_code null, district_name 全市); floor areas in 万平方米, land in
-- 亩, rates as fractions.

with

demolition_progress as (

    select * from {{ ref('fct_demolition_progress_monthly') }}

),

districts_and_city as (

    select
        report_month,
        district_code,
        district_name,
        sum(ytd_demolished) as ytd_demolished,
        sum(annual_target) as annual_target,
        sum(prev_year_total_demolished) as prev_year_total_demolished,
        sum(ytd_land_mu) as ytd_land_mu
    from demolition_progress
    group by grouping sets ((report_month, district_code, district_name), (report_month))

),

final as (

    select
        report_month,
        district_code,
        coalesce(district_name, '全市') as district_name,
        district_code is null as is_city_total,
        ytd_demolished,
        annual_target,
        ytd_demolished / nullif(annual_target, 0) as target_completion_rate,
        prev_year_total_demolished,
        ytd_demolished / nullif(prev_year_total_demolished, 0) as prev_year_total_rate,
        ytd_land_mu
    from districts_and_city

)

{{ contract_typed_select('final') }}
