-- One row per project per report month from the Transport Bureau's 交通重大项目月度调度表 (JSON API),
-- on the DRC's template and in the same vocabulary as stg_drc__major_projects:
-- district is a code, amounts are in 万元.

with

transport_projects as (

    select * from {{ source('transport', 'transport_projects') }}

),

renamed as (

    select
        {{ project_feed_columns() }}

    from transport_projects

)

select * from renamed
