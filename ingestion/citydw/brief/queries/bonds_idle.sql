-- Idle money: bond allocations with nothing spent in the last three months, largest unspent first.
select
    fct_bond_spending_monthly.bond_name,
    fct_bond_spending_monthly.project_name,
    dim_district.district_name,
    fct_bond_spending_monthly.allocated_wan,
    fct_bond_spending_monthly.unspent_wan,
    fct_bond_spending_monthly.spending_progress
from marts.fct_bond_spending_monthly
left join marts.dim_district
    on fct_bond_spending_monthly.district_code = dim_district.district_code
where fct_bond_spending_monthly.report_month = %(report_month)s and fct_bond_spending_monthly.is_idle
order by fct_bond_spending_monthly.unspent_wan desc, fct_bond_spending_monthly.project_code
