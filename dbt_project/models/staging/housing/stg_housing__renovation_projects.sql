-- One row per old-community / urban-village renovation project per report
-- month, from the 城镇老旧小区和城中村改造进度表. Floor area stays in 万平方米
-- (suffix _10k_m2), investment in 万元 (_wan).

with

renovation_projects as (

    select * from {{ source('housing', 'renovation_projects') }}

),

renamed as (

    select
        report_month,
        project_id,
        community_name,
        renovation_type,
        district as district_code,
        street,
        households,
        floor_area as floor_area_10k_m2,
        plan_year::integer as plan_year,
        status,
        start_date,
        completion_date,
        investment as investment_wan,
        delivery_id,
        source_row,
        loaded_at

    from renovation_projects

)

select * from renamed
