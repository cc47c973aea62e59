-- One row per project per report month across every department feed that
-- reports projects: the DRC's 重大项目月度调度表, the Transport Bureau's and
-- the Water Resources Bureau's sector feeds. A project may be in several
-- feeds; the DRC is the authority (docs/departments.md), so for each
-- (report_month, project_code) the row of the feed with the lowest
-- source_priority wins, whole: drc 1, transport 2, water 3.
--
-- Whole rows, not field by field: the sector feeds carry exactly the DRC's
-- fields, so "the DRC is the authority for the fields it has" means every
-- field; and a null in the DRC's row is an answer, not a gap (no blocker,
-- not started yet), which a sector feed must not overwrite.
-- reporting_departments says which feeds reported the project that month.


{#- The months that changed since the last build, for the data tests (macros/where_subquery.sql). #}
{{ config(post_hook=["{{ record_tested_months([{'ref': 'stg_drc__major_projects'}, {'ref': 'stg_transport__transport_projects'}, {'ref': 'stg_water__water_projects'}]) }}"]) }}

with

drc_major_projects as (

    select * from {{ ref('stg_drc__major_projects') }}

),

transport_projects as (

    select * from {{ ref('stg_transport__transport_projects') }}

),

water_projects as (

    select * from {{ ref('stg_water__water_projects') }}

),

projects_unioned as (

    {#- The feeds in order of authority (docs/departments.md): the DRC first. Each
        has the DRC's template, so the same columns come from every one. #}
    {%- set feeds = [
        ('drc', 'drc_major_projects'),
        ('transport', 'transport_projects'),
        ('water', 'water_projects'),
    ] %}
    {%- set columns = [
        'report_month',
        'project_code',
        'project_name',
        'category',
        'district_code',
        'responsible_unit',
        'status',
        'total_investment_wan',
        'annual_plan_investment_wan',
        'month_investment_wan',
        'ytd_investment_wan',
        'planned_start_date',
        'actual_start_date',
        'planned_completion_date',
        'progress_note',
        'blocker_type',
        'blocker_note',
        'is_bond_funded',
        'delivery_id',
        'loaded_at',
    ] %}
    {%- for department, feed in feeds %}
    select
        '{{ department }}'::text as source_department,
        {{ loop.index }} as source_priority,
        {{ columns | join(',\n        ') }}
    from {{ feed }}
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

projects_ranked as (

    select
        *,
        row_number() over (
            partition by report_month, project_code
            order by source_priority asc, loaded_at desc, delivery_id desc
        ) as source_rank,
        string_agg(source_department, ', ') over (
            partition by report_month, project_code
            order by source_priority asc, loaded_at desc, delivery_id desc
            rows between unbounded preceding and unbounded following
        ) as reporting_departments
    from projects_unioned

),

projects_from_authority as (

    select
        report_month,
        project_code,
        project_name,
        source_department,
        reporting_departments,
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
