-- One row per street (街道/乡镇) per reference year, from the Statistics
-- Bureau's yearly 分街道常住人口统计表. Yearly data is loaded with
-- report_month = 1 January of the year it describes; reference_year says so.

with

population as (

    select * from {{ source('stats', 'population') }}

),

renamed as (

    select
        report_month,
        extract(year from report_month)::integer as reference_year,
        district_code,
        street,
        residents,
        residents_60_plus,
        residents_3_5,
        residents_6_11,
        residents_12_14,
        delivery_id,
        source_row,
        loaded_at

    from population

)

select * from renamed
