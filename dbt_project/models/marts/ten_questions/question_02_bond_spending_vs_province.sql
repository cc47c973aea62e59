-- Q2. Bond spending progress against the provincial average, in points.
-- One row per report month with a provincial bulletin. spending_progress is
-- the city's own (Σ cumulative spent ÷ Σ allocated); the provincial average
-- is the bulletin's; the bulletin_ columns compare like with like.

with

bond_city_vs_province as (

    select * from {{ ref('bond_city_vs_province_monthly') }}

),

final as (

    select
        report_month,
        spending_progress,
        province_avg_spending_progress,
        spending_progress_gap_pp,
        bulletin_spending_progress,
        bulletin_spending_progress_gap_pp
    from bond_city_vs_province
    where has_bulletin

)

{{ contract_typed_select('final') }}
