{#-
    One row per project per report month: status, investment against the
    annual plan, start dates and what blocks the project, from the feed that
    is the authority for it (int_projects_unioned: DRC, else transport, else
    water).

    Incremental by month (macros/incremental_by_month.sql): a run rebuilds,
    whole, every report month whose deliveries in any of the three project
    feeds changed since the mart was built (a new month, a correction, a
    month that vanished), and leaves the other months alone. The three feeds
    are all inputs, not only the winning rows' deliveries: a sector feed's
    correction can add or remove a project the DRC does not report.

    Columns: on_schema_change is 'fail', because a new column filled only
    for rebuilt months would mislead; after changing the columns run
    `citydw build --full-refresh` (seconds).

    Indexes: the primary key (report_month, project_code), declared in the
    YAML, is already the index on report_month; district_code gets its own.
-#}

{%- set month_inputs = [
    {'ref': 'stg_drc__major_projects'},
    {'ref': 'stg_transport__transport_projects'},
    {'ref': 'stg_water__water_projects'},
] %}

{{ config(**incremental_by_month_config(month_inputs, index_columns=['district_code'])) }}

with

dim_district as (

    select * from {{ ref('dim_district') }}

),

dim_department as (

    select * from {{ ref('dim_department') }}

),

projects as (

    select * from {{ ref('int_projects_unioned') }}

),

month_fingerprints as (

    {{ month_input_fingerprints(month_inputs) }}

),

months_to_build as (

    {{ months_to_build('month_fingerprints') }}

),

projects_to_build as (

    select
        projects.*,
        months_to_build.input_fingerprint
    from projects
    {{ join_months_to_build('projects', month_inputs) }}

),

progress_measured as (

    select
        *,
        {{ safe_divide('ytd_investment_wan', 'annual_plan_investment_wan') }}
            as annual_completion_rate,
        coalesce(status in ('新开工', '在建', '竣工'), false)
        or actual_start_date is not null as is_started,
        (report_month + interval '1 month' - interval '1 day')::date as report_month_end_date
    from projects_to_build

),

starts_assessed as (

    select
        *,
        not is_started
        and coalesce(planned_start_date <= report_month_end_date, false) as is_start_overdue
    from progress_measured

),

labels_joined as (

    select
        starts_assessed.*,
        dim_district.district_name,
        dim_department.department_name as source_department_name
    from starts_assessed
    left join dim_district
        on starts_assessed.district_code = dim_district.district_code
    left join dim_department
        on starts_assessed.source_department = dim_department.department

),

final as (

    select
        report_month,
        project_code,
        project_name,
        source_department,
        source_department_name,
        reporting_departments,
        district_code,
        district_name,
        category,
        status,
        total_investment_wan,
        annual_plan_investment_wan,
        month_investment_wan,
        ytd_investment_wan,
        annual_completion_rate,
        planned_start_date,
        actual_start_date,
        is_started,
        is_start_overdue,
        blocker_type,
        is_bond_funded,
        responsible_unit,
        planned_completion_date,
        blocker_note,
        progress_note
    from labels_joined

)

{{ contract_typed_select('final') }}
