-- One row per project per report month across every department feed that
-- reports projects. A project may be in several feeds; the DRC is the
-- authority (DEPARTMENTS.md), so for each (report_month, project_code) the
-- row of the feed with the lowest source_priority wins, whole.
--
-- Adding a feed (transport.transport_projects, water.water_projects) is an
-- import CTE for its staging model plus one `union all` branch below with
-- its department code and a priority above 1. If later the DRC should win
-- field by field instead (a sector feed filling fields the DRC left empty),
-- that is one more step after projects_ranked.

with

drc_major_projects as (

    select * from {{ ref('stg_drc__major_projects') }}

),

projects_unioned as (

    select
        'drc'::text as source_department,
        1 as source_priority,
        report_month,
        project_code,
        project_name,
        category,
        district_code,
        responsible_unit,
        status,
        total_investment_wan,
        annual_plan_investment_wan,
        month_investment_wan,
        ytd_investment_wan,
        planned_start_date,
        actual_start_date,
        planned_completion_date,
        progress_note,
        blocker_type,
        blocker_note,
        is_bond_funded,
        delivery_id,
        loaded_at
    from drc_major_projects

),

projects_ranked as (

    select
        *,
        row_number() over (
            partition by report_month, project_code
            order by source_priority asc, loaded_at desc, delivery_id desc
        ) as source_rank
    from projects_unioned

),

projects_from_authority as (

    select
        report_month,
        project_code,
        project_name,
        source_department,
        category,
        district_code,
        responsible_unit,
        status,
        total_investment_wan,
        annual_plan_investment_wan,
        month_investment_wan,
        ytd_investment_wan,
        planned_start_date,
        actual_start_date,
        planned_completion_date,
        progress_note,
        blocker_type,
        blocker_note,
        is_bond_funded,
        delivery_id,
        loaded_at
    from projects_ranked
    where source_rank = 1

)

select * from projects_from_authority
