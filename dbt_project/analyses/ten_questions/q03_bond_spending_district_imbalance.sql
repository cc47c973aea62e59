-- Q3. Imbalance between districts in bond spending progress.
-- One row per district, best first: its progress, rank, gap to the city's
-- progress in points, idle money; spread_pp is the gap between the best
-- and the worst district (the same on every row).
-- Month asked: `set citydw.report_month = 'YYYY-MM-01';` first, else the latest month.
-- depends_on: {{ ref('bond_spending_by_district_monthly') }}
-- depends_on: {{ ref('dim_district') }}

with

asked as (

    select
        coalesce(
            nullif(current_setting('citydw.report_month', true), '')::date,
            (select max(report_month) from marts.bond_spending_by_district_monthly)
        ) as report_month

)

select
    bond_spending_by_district_monthly.report_month,
    bond_spending_by_district_monthly.district_code,
    dim_district.district_name,
    bond_spending_by_district_monthly.allocated_wan,
    bond_spending_by_district_monthly.cumulative_spent_wan,
    bond_spending_by_district_monthly.spending_progress,
    bond_spending_by_district_monthly.rank_in_city,
    bond_spending_by_district_monthly.districts_ranked,
    bond_spending_by_district_monthly.gap_to_city_pp,
    bond_spending_by_district_monthly.idle_allocation_count,
    bond_spending_by_district_monthly.idle_unspent_wan,
    (
        max(bond_spending_by_district_monthly.spending_progress) over ()
        - min(bond_spending_by_district_monthly.spending_progress) over ()
    ) * 100 as spread_pp
from marts.bond_spending_by_district_monthly
inner join asked
    on bond_spending_by_district_monthly.report_month = asked.report_month
inner join marts.dim_district
    on bond_spending_by_district_monthly.district_code = dim_district.district_code
order by
    bond_spending_by_district_monthly.rank_in_city asc nulls last,
    bond_spending_by_district_monthly.district_code asc
