{#-
    One row per residential community (小区) per reference year of the
    Statistics Bureau's 住宅小区基础信息表: where it lies and how many live
    there, with its district's name.

    Every reference year is kept, not only the latest: a month's coverage
    (fct_facility_coverage_monthly.community_reference_year) is measured on
    the communities of the latest year up to the year before the report
    month's, so a past month's map must draw that year's communities, not
    the newest. A table, rebuilt whole: yearly reference data, a few
    thousand rows.
-#}

{{ config(post_hook=[named_indexes_hook(['district_code'])]) }}

with

dim_district as (

    select * from {{ ref('dim_district') }}

),

communities as (

    select * from {{ ref('stg_stats__residential_communities') }}

),

districts_joined as (

    select
        communities.reference_year,
        communities.community_id,
        communities.community_name,
        communities.district_code,
        dim_district.district_name,
        communities.street,
        communities.lng,
        communities.lat,
        communities.residents
    from communities
    left join dim_district
        on communities.district_code = dim_district.district_code

),

final as (

    select
        reference_year,
        community_id,
        community_name,
        district_code,
        district_name,
        street,
        lng,
        lat,
        residents
    from districts_joined

)

{{ contract_typed_select('final') }}
