-- One row per project of the latest report month in
-- fct_project_progress_monthly: what the project_status_snapshot records
-- each build; observed_month is the report month as a timestamp, the type
-- the snapshot's dbt_valid_from and dbt_valid_to take. Only the latest
-- month, so that building an older month again
-- (a correction, a backfill) never records the past as a change of today.

with

project_progress as (

    select * from {{ ref('fct_project_progress_monthly') }}

),

latest_status as (

    select
        project_progress.project_code,
        project_progress.report_month::timestamp as observed_month,
        project_progress.status,
        project_progress.blocker_type,
        project_progress.is_started,
        project_progress.actual_start_date,
        project_progress.source_department
    from project_progress
    -- A scalar subquery, not a join to a CTE of the latest month: read once
    -- through the mart's report_month index, it becomes that index's
    -- condition; a CTE read twice would be materialized, every month of
    -- the mart (2.6M rows at a province's volume over ten years).
    where project_progress.report_month = (
        select max(report_month) from {{ ref('fct_project_progress_monthly') }}
    )

)

select * from latest_status
