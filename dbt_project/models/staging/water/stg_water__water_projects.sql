-- One row per project per report month from the Water Resources Bureau's 水利重大项目月度调度表 (CSV),
-- on the DRC's template and in the same vocabulary as stg_drc__major_projects:
-- district is a code, amounts are in 万元.

with

water_projects as (

    select * from {{ source('water', 'water_projects') }}

),

renamed as (

    select
        report_month,
        project_code,
        project_name,
        category,
        district as district_code,
        responsible_unit,
        status,
        total_investment as total_investment_wan,
        annual_plan_investment as annual_plan_investment_wan,
        month_investment as month_investment_wan,
        ytd_investment as ytd_investment_wan,
        planned_start_date,
        actual_start_date,
        planned_completion_date,
        progress_note,
        blocker_type,
        blocker_note,
        is_bond_funded,
        delivery_id,
        source_row,
        loaded_at

    from water_projects

)

select * from renamed
