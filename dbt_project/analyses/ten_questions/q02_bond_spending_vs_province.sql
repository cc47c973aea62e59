-- Q2. Bond spending progress against the provincial average, in points.
-- One row. spending_progress is the city's own (Σ cumulative spent ÷ Σ
-- allocated over its bond allocations); the provincial average is the
-- bulletin's (Σ spent ÷ Σ issued of this year's new bonds); the last two
-- columns compare like with like on the bulletin's basis.
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
    bond_city_vs_province_monthly.spending_progress,
    bond_city_vs_province_monthly.province_avg_spending_progress,
    bond_city_vs_province_monthly.spending_progress_gap_pp,
    round(bond_city_vs_province_monthly.spending_progress_gap_pp, 2) as spending_progress_gap_pp_rounded,
    bond_city_vs_province_monthly.bulletin_spending_progress,
    bond_city_vs_province_monthly.bulletin_spending_progress_gap_pp
from marts.bond_city_vs_province_monthly
inner join asked
    on bond_city_vs_province_monthly.report_month = asked.report_month
