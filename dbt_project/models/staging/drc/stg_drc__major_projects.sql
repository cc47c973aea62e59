-- One row per project per report month from the DRC's 重大项目月度调度表,
-- in the marts' vocabulary. The loader already converted units and codes,
-- so this only renames: district is a code, amounts are in 万元.

with

major_projects as (

    select * from {{ source('drc', 'major_projects') }}

),

renamed as (

    select
        {{ project_feed_columns() }}

    from major_projects

)

select * from renamed
