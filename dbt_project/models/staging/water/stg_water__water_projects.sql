-- One row per project per report month from the Water Resources Bureau's 水利重大项目月度调度表 (CSV),
-- on the DRC's template and in the same vocabulary as stg_drc__major_projects:
-- district is a code, amounts are in 万元.

with

water_projects as (

    select * from {{ source('water', 'water_projects') }}

),

renamed as (

    select
        {{ project_feed_columns() }}

    from water_projects

)

select * from renamed
