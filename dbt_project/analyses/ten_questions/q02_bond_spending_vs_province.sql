-- Q2. Bond spending progress against the provincial average, in points.
-- One row per report month with a provincial bulletin. spending_progress is
-- the city's own (Σ cumulative spent ÷ Σ allocated); the provincial average
-- is the bulletin's; the bulletin_ columns compare like with like.
-- Every report month is returned: let the BI tool's filter pick the month
-- (report_month). One month in psql:
--   select * from marts.question_02_bond_spending_vs_province where report_month = date '2022-07-01'
-- One statement, no session setting: runs unchanged in psql, Superset SQL
-- Lab, Metabase and DBeaver as citydw_bi.
-- Reads the view marts.question_02_bond_spending_vs_province
-- (dbt_project/models/marts/ten_questions/). No Jinja or double braces here:
-- Metabase reads them as a variable, even in a comment.

select
    report_month,
    spending_progress,
    province_avg_spending_progress,
    spending_progress_gap_pp,
    bulletin_spending_progress,
    bulletin_spending_progress_gap_pp
from marts.question_02_bond_spending_vs_province
order by report_month
