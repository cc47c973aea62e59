{#-
    One row per major project ever reported: its latest attributes, and from
    the project_status_snapshot, when it was first reported started and how
    long it has been blocked.

    - actual_start_date is what the department reports (实际开工时间);
      started_seen_month is the first report month the warehouse saw the
      project started (status 新开工/在建/竣工). They differ when a project is
      reported started late, or the snapshot's history began after the start.
    - blocked_since_month is the first report month of the current unbroken
      spell of versions with a blocker (whatever its type: a project blocked
      by 征地拆迁 and then by 资金 has been blocked since the first);
      months_blocked counts the report months of the spell up to the
      project's last report, both included. Null when not blocked now.
    - Zero-length versions (dbt_valid_from = dbt_valid_to: a correction of
      the latest month replaced them) are ignored.
    See snapshots/project_status_snapshot.yml for the snapshot's limits.
    One row per project, kept by macros/latest_state.sql: a build that only
    adds the newest month of fct_project_progress_monthly reads that month
    (and the snapshot, one row per status change); any other reads every
    month. The snapshot only changes the projects of the latest month, so
    the history columns of the others stand.
-#}

{%- set month_inputs = [
    {'ref': 'fct_project_progress_monthly', 'built_by_month': true},
] %}

{{ config(**latest_state_config(
    month_inputs,
    unique_key='project_code',
    index_columns=['district_code'],
    post_hooks=["{{ refresh_latest_flag('is_in_latest_report', 'last_report_month') }}"],
)) }}

{%- set mode = latest_state_mode(month_inputs) %}

with

dim_district as (

    select * from {{ ref('dim_district') }}

),

dim_department as (

    select * from {{ ref('dim_department') }}

),

{%- if mode == 'append' %}

-- The first month each project was reported, as recorded before the new months.
recorded_first_months as (

    select project_code, first_report_month
    from {{ this }}

),

{%- endif %}

project_progress as (

    select * from {{ ref('fct_project_progress_monthly') }}
    {%- if mode == 'append' %}
    where report_month in ({{ latest_state_new_months(month_inputs) }})
    {%- elif mode == 'none' %}
    where false
    {%- endif %}

),

status_history as (

    select * from {{ ref('project_status_snapshot') }}

),

reports_ranked as (

    select
        *,
        row_number() over (partition by project_code order by report_month desc) as recency,
        min(report_month) over (partition by project_code) as first_report_month,
        max(report_month) over (partition by project_code) as last_report_month,
        max(report_month) over () as latest_report_month
    from project_progress

),

latest_reports as (

    select *
    from reports_ranked
    where recency = 1

),

versions as (

    select
        project_code,
        status,
        blocker_type,
        dbt_valid_from::date as valid_from_month,
        dbt_valid_to::date as valid_to_month,
        blocker_type is not null as is_blocked
    from status_history
    where dbt_valid_to is null or dbt_valid_to > dbt_valid_from

),

-- Consecutive versions that are all blocked (or all not) form one spell.
versions_in_spells as (

    select
        *,
        row_number() over (partition by project_code order by valid_from_month)
        - row_number() over (partition by project_code, is_blocked order by valid_from_month) as spell
    from versions

),

current_versions as (

    select *
    from versions_in_spells
    where valid_to_month is null

),

current_blocked_spells as (

    select
        versions_in_spells.project_code,
        min(versions_in_spells.valid_from_month) as blocked_since_month
    from versions_in_spells
    inner join current_versions
        on
            versions_in_spells.project_code = current_versions.project_code
            and versions_in_spells.spell = current_versions.spell
            and versions_in_spells.is_blocked = current_versions.is_blocked
    where current_versions.is_blocked
    group by versions_in_spells.project_code

),

history_summarised as (

    select
        project_code,
        min(valid_from_month) as history_since_month,
        min(valid_from_month) filter (where status in ('新开工', '在建', '竣工')) as started_seen_month,
        count(*) - 1 as status_changes
    from versions
    group by project_code

),

projects_with_history as (

    select
        latest_reports.project_code,
        latest_reports.project_name,
        latest_reports.source_department,
        latest_reports.district_code,
        latest_reports.category,
        latest_reports.responsible_unit,
        latest_reports.status,
        latest_reports.is_started,
        latest_reports.blocker_type,
        latest_reports.blocker_note,
        latest_reports.planned_start_date,
        latest_reports.actual_start_date,
        latest_reports.planned_completion_date,
        latest_reports.total_investment_wan,
        latest_reports.is_bond_funded,
        {%- if mode == 'append' %}
        coalesce(recorded_first_months.first_report_month, latest_reports.first_report_month) as first_report_month,
        {%- else %}
        latest_reports.first_report_month,
        {%- endif %}
        latest_reports.last_report_month,
        latest_reports.last_report_month = latest_reports.latest_report_month as is_in_latest_report,
        history_summarised.started_seen_month,
        current_blocked_spells.blocked_since_month,
        case
            when current_blocked_spells.blocked_since_month is not null
                then (
                    (extract(year from latest_reports.last_report_month)
                     - extract(year from current_blocked_spells.blocked_since_month)) * 12
                    + extract(month from latest_reports.last_report_month)
                    - extract(month from current_blocked_spells.blocked_since_month)
                    + 1
                )::integer
        end as months_blocked,
        history_summarised.status_changes,
        history_summarised.history_since_month
    from latest_reports
    left join history_summarised
        on latest_reports.project_code = history_summarised.project_code
    left join current_blocked_spells
        on latest_reports.project_code = current_blocked_spells.project_code
    {%- if mode == 'append' %}
    left join recorded_first_months
        on latest_reports.project_code = recorded_first_months.project_code
    {%- endif %}

),

-- The Chinese names BI labels charts with.
labels_joined as (

    select
        projects_with_history.project_code,
        projects_with_history.project_name,
        projects_with_history.source_department,
        dim_department.department_name as source_department_name,
        projects_with_history.district_code,
        dim_district.district_name,
        projects_with_history.category,
        projects_with_history.responsible_unit,
        projects_with_history.status,
        projects_with_history.is_started,
        projects_with_history.blocker_type,
        projects_with_history.blocker_note,
        projects_with_history.planned_start_date,
        projects_with_history.actual_start_date,
        projects_with_history.planned_completion_date,
        projects_with_history.total_investment_wan,
        projects_with_history.is_bond_funded,
        projects_with_history.first_report_month,
        projects_with_history.last_report_month,
        projects_with_history.is_in_latest_report,
        projects_with_history.started_seen_month,
        projects_with_history.blocked_since_month,
        projects_with_history.months_blocked,
        projects_with_history.status_changes,
        projects_with_history.history_since_month
    from projects_with_history
    left join dim_district
        on projects_with_history.district_code = dim_district.district_code
    left join dim_department
        on projects_with_history.source_department = dim_department.department

)

{{ contract_typed_select('labels_joined') }}
