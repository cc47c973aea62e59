-- Q5. Demolition: Jan–M volume against last year's total and the annual
-- target. One row per district per report month, and a city total
-- (district_code null, district_name 全市); floor areas in 万平方米, land in
-- 亩, rates as fractions.
-- Every report month is returned: let the BI tool's filter pick the month
-- (report_month). One month in psql:
--   select * from marts.question_05_demolition_vs_target_and_last_year where report_month = date '2022-07-01'
-- One statement, no session setting: runs unchanged in psql, Superset SQL
-- Lab, Metabase and DBeaver as citydw_bi.
-- Reads the view marts.question_05_demolition_vs_target_and_last_year
-- (dbt_project/models/marts/ten_questions/). No Jinja or double braces here:
-- Metabase reads them as a variable, even in a comment.

select
    report_month,
    district_code,
    district_name,
    is_city_total,
    ytd_demolished,
    annual_target,
    target_completion_rate,
    prev_year_total_demolished,
    prev_year_total_rate,
    ytd_land_mu
from marts.question_05_demolition_vs_target_and_last_year
order by report_month, district_code asc nulls last
