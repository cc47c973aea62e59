-- Q3. Imbalance between districts in bond spending progress. One row per
-- district per report month: its progress, rank, gap to the city in points,
-- idle money; spread_pp is the month's gap between the best and the worst
-- district (the same on every row of a month).

with

bond_spending_by_district as (

    select * from {{ ref('bond_spending_by_district_monthly') }}

),

final as (

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
        (
            max(spending_progress) over (partition by report_month)
            - min(spending_progress) over (partition by report_month)
        ) * 100 as spread_pp
    from bond_spending_by_district

)

{{ contract_typed_select('final') }}
