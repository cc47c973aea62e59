-- Q1. Jan–M special-bond issuance: growth on the same period last year, and
-- the city's rank in the province by amount and by growth. One row per
-- report month with a provincial bulletin.

with

bond_city_vs_province as (

    select * from {{ ref('bond_city_vs_province_monthly') }}

),

final as (

    select
        report_month,
        issued_ytd_wan,
        issued_ytd_prev_year_wan,
        issued_yoy_growth,
        round(issued_yoy_growth * 100, 2) as issued_yoy_growth_pct,
        province_rank_by_issued,
        province_rank_by_growth,
        province_city_count
    from bond_city_vs_province
    where has_bulletin

)

{{ contract_typed_select('final') }}
