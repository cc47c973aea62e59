-- Q3: spending progress by district, best first; spread_pp is the best minus the worst, in points.
select
    bond_spending_by_district_monthly.district_code,
    dim_district.district_name,
    bond_spending_by_district_monthly.allocated_wan,
    bond_spending_by_district_monthly.cumulative_spent_wan,
    bond_spending_by_district_monthly.spending_progress,
    bond_spending_by_district_monthly.rank_in_city,
    bond_spending_by_district_monthly.districts_ranked,
    bond_spending_by_district_monthly.city_spending_progress,
    bond_spending_by_district_monthly.gap_to_city_pp,
    bond_spending_by_district_monthly.idle_allocation_count,
    bond_spending_by_district_monthly.idle_unspent_wan,
    (
        max(bond_spending_by_district_monthly.spending_progress) over ()
        - min(bond_spending_by_district_monthly.spending_progress) over ()
    ) * 100 as spread_pp
from marts.bond_spending_by_district_monthly
inner join marts.dim_district
    on bond_spending_by_district_monthly.district_code = dim_district.district_code
where bond_spending_by_district_monthly.report_month = %(report_month)s
order by
    bond_spending_by_district_monthly.rank_in_city asc nulls last,
    bond_spending_by_district_monthly.district_code asc
