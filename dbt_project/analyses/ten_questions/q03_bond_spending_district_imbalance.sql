-- Q3. Imbalance between districts in bond spending progress. One row per
-- district per report month: its progress, rank, gap to the city in points,
-- idle money; spread_pp is the month's gap between the best and the worst
-- district (the same on every row of a month).
-- Every report month is returned: let the BI tool's filter pick the month
-- (report_month). One month in psql:
--   select * from marts.question_03_bond_spending_district_imbalance where report_month = date '2022-07-01'
-- One statement, no session setting: runs unchanged in psql, Superset SQL
-- Lab, Metabase and DBeaver as citydw_bi.
-- Reads the view marts.question_03_bond_spending_district_imbalance
-- (dbt_project/models/marts/ten_questions/). No Jinja or double braces here:
-- Metabase reads them as a variable, even in a comment.

select
    report_month,
    district_code,
    district_name,
    allocated_wan,
    cumulative_spent_wan,
    spending_progress,
    rank_in_city,
    districts_ranked,
    gap_to_city_pp,
    idle_allocation_count,
    idle_unspent_wan,
    spread_pp
from marts.question_03_bond_spending_district_imbalance
order by report_month, rank_in_city asc nulls last, district_code
