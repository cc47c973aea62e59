-- One row per special-purpose bond × project per report month, from the
-- Finance Bureau's 专项债券资金使用情况表, in the marts' vocabulary: amounts in
-- 万元 get the _wan suffix, the coupon rate becomes a fraction (3.2 % → 0.032).

with

bond_allocations as (

    select * from {{ source('finance', 'bond_allocations') }}

),

renamed as (

    select
        report_month,
        bond_code,
        project_code,
        bond_name,
        bond_type,
        issue_date,
        term_years,
        trim_scale(coupon_rate / 100) as coupon_rate,
        project_name,
        district_code,
        sector,
        allocated as allocated_wan,
        month_spent as month_spent_wan,
        cumulative_spent as cumulative_spent_wan,
        delivery_id,
        source_row,
        loaded_at

    from bond_allocations

)

select * from renamed
