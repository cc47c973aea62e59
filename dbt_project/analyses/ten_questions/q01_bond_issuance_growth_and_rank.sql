-- Q1. This year's Jan–M special-bond issuance: growth on the same period
-- last year, and the city's rank in the province by amount and by growth.
-- One row. Source: the city's row of the provincial bulletin and its
-- comparison with the bulletin's other cities.
-- Month asked: `set citydw.report_month = 'YYYY-MM-01';` first, else the latest month.
-- depends_on: {{ ref('bond_city_vs_province_monthly') }}

with

asked as (

    select
        coalesce(
            nullif(current_setting('citydw.report_month', true), '')::date,
            (select max(report_month) from marts.bond_city_vs_province_monthly where has_bulletin)
        ) as report_month

)

select
    bond_city_vs_province_monthly.report_month,
    bond_city_vs_province_monthly.issued_ytd_wan,
    bond_city_vs_province_monthly.issued_ytd_prev_year_wan,
    bond_city_vs_province_monthly.issued_yoy_growth,
    round(bond_city_vs_province_monthly.issued_yoy_growth * 100, 2) as issued_yoy_growth_pct,
    bond_city_vs_province_monthly.province_rank_by_issued,
    bond_city_vs_province_monthly.province_rank_by_growth,
    bond_city_vs_province_monthly.province_city_count
from marts.bond_city_vs_province_monthly
inner join asked
    on bond_city_vs_province_monthly.report_month = asked.report_month
