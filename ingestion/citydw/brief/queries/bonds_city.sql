-- Q1 + Q2: Jan–M new special-bond issuance against last year, the province's ranks, spending against the
-- provincial average. One row, or none without a bulletin for the month.
select
    report_month,
    issued_ytd_wan,
    issued_ytd_prev_year_wan,
    issued_yoy_growth,
    province_rank_by_issued,
    province_rank_by_growth,
    province_city_count,
    spending_progress,
    province_avg_spending_progress,
    spending_progress_gap_pp,
    allocated_wan,
    cumulative_spent_wan
from marts.bond_city_vs_province_monthly
where report_month = %(report_month)s and has_bulletin
