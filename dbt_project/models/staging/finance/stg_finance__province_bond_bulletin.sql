-- One row per prefecture city per report month, from the province's
-- 全省新增专项债券发行使用情况通报. The reader already converted 亿元 to 万元
-- and dropped the 全省合计 row; here amounts get the _wan suffix and the
-- bulletin's spending progress becomes a fraction (85.2 % → 0.852).

with

province_bond_bulletin as (

    select * from {{ source('finance', 'province_bond_bulletin') }}

),

renamed as (

    select
        report_month,
        city_code,
        city_name,
        issued_ytd as issued_ytd_wan,
        issued_ytd_prev_year as issued_ytd_prev_year_wan,
        spent_ytd as spent_ytd_wan,
        trim_scale(spending_progress / 100) as spending_progress,
        delivery_id,
        source_row,
        loaded_at

    from province_bond_bulletin

)

select * from renamed
