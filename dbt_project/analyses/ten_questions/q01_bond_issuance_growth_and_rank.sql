-- Q1. Jan–M special-bond issuance: growth on the same period last year, and
-- the city's rank in the province by amount and by growth. One row per
-- report month with a provincial bulletin.
-- Every report month is returned: let the BI tool's filter pick the month
-- (report_month). One month in psql:
--   select * from marts.question_01_bond_issuance_growth_and_rank where report_month = date '2022-07-01'
-- One statement, no session setting: runs unchanged in psql, Superset SQL
-- Lab, Metabase and DBeaver as citydw_bi.
-- Reads the view marts.question_01_bond_issuance_growth_and_rank
-- (dbt_project/models/marts/ten_questions/). No Jinja or double braces here:
-- Metabase reads them as a variable, even in a comment.

select
    report_month,
    issued_ytd_wan,
    issued_ytd_prev_year_wan,
    issued_yoy_growth,
    issued_yoy_growth_pct,
    province_rank_by_issued,
    province_rank_by_growth,
    province_city_count
from marts.question_01_bond_issuance_growth_and_rank
order by report_month
