-- One row per residential community (小区) per reference year, from the
-- Statistics Bureau's yearly 住宅小区基础信息表: WGS-84 location and residents
-- at the end of the year. report_month is 1 January of the year described.

with

residential_communities as (

    select * from {{ source('stats', 'residential_communities') }}

),

renamed as (

    select
        report_month,
        extract(year from report_month)::integer as reference_year,
        community_id,
        name as community_name,
        district_code,
        street,
        lng,
        lat,
        residents,
        delivery_id,
        source_row,
        loaded_at

    from residential_communities

)

select * from renamed
