{#-
    One row per facility of the four registers (schools and kindergartens,
    primary care, elderly care, public car parks), as the latest register
    that lists it describes it, with the facility types it counts for in
    fct_facility_coverage_monthly.

    The key is (source_dataset, facility_id). A facility's id is its project
    code until it is registered, then its unified social credit code
    (docs/departments.md): the registers give no link between the two, so a
    facility that changes id appears twice, the older id with an earlier
    last_reported_month. One row per facility, not per month: kept by
    macros/latest_state.sql, which reads only the newest month when that is
    all a build adds, and every month otherwise.
-#}

{%- set month_inputs = [
    {'ref': 'stg_education__schools'},
    {'ref': 'stg_health__clinics'},
    {'ref': 'stg_civil_affairs__elderly_care'},
    {'ref': 'stg_urban_mgmt__parking_lots'},
] %}

{{ config(**latest_state_config(
    month_inputs,
    unique_key=['source_dataset', 'facility_id'],
    index_columns=['district_code'],
    post_hooks=[
        "{{ refresh_latest_flag('is_in_latest_register', 'last_reported_month', partition_by='source_dataset') }}",
    ],
)) }}

{%- set mode = latest_state_mode(month_inputs) %}

with

dim_district as (

    select * from {{ ref('dim_district') }}

),

dim_department as (

    select * from {{ ref('dim_department') }}

),

facilities as (

    select * from {{ ref('int_facilities_unioned') }}
    {%- if mode == 'append' %}
    where report_month in ({{ latest_state_new_months(month_inputs) }})
    {%- elif mode == 'none' %}
    where false
    {%- endif %}

),

{%- if mode == 'append' %}

-- The first month each facility was reported, as recorded before the new months.
recorded_first_months as (

    select source_dataset, facility_id, first_reported_month
    from {{ this }}

),

{%- endif %}

facility_type_mapping as (

    select * from {{ ref('facility_type_mapping') }}

),

facilities_reported as (

    select
        *,
        row_number() over (
            partition by source_dataset, facility_id
            order by report_month desc
        ) as recency,
        min(report_month) over (partition by source_dataset, facility_id) as first_reported_month,
        max(report_month) over (partition by source_dataset, facility_id) as last_reported_month
    from facilities

),

latest_facilities as (

    select *
    from facilities_reported
    where recency = 1

),

types_by_register_type as (

    select
        source_dataset,
        register_type,
        array_agg(facility_type order by facility_type) filter (where facility_type is not null) as facility_types,
        bool_or(true) as is_known_register_type
    from facility_type_mapping
    group by source_dataset, register_type

),

latest_register_months as (

    select
        source_dataset,
        max(report_month) as latest_register_month
    from facilities
    group by source_dataset

),

facilities_typed as (

    select
        latest_facilities.source_dataset,
        latest_facilities.facility_id,
        latest_facilities.facility_name,
        latest_facilities.source_department,
        dim_department.department_name as source_department_name,
        latest_facilities.register_type,
        coalesce(types_by_register_type.facility_types, array[]::text[]) as facility_types,
        coalesce(types_by_register_type.is_known_register_type, false) as is_known_register_type,
        latest_facilities.district_code,
        dim_district.district_name,
        latest_facilities.street,
        latest_facilities.lng,
        latest_facilities.lat,
        latest_facilities.capacity,
        case latest_facilities.source_dataset
            when 'education.schools' then '学位'
            when 'urban_mgmt.parking_lots' then '泊位'
            else '床位'
        end as capacity_unit,
        latest_facilities.status,
        latest_facilities.plan_year,
        latest_facilities.start_date,
        latest_facilities.open_date,
        latest_facilities.is_inclusive,
        {%- if mode == 'append' %}
        coalesce(recorded_first_months.first_reported_month, latest_facilities.first_reported_month)
            as first_reported_month,
        {%- else %}
        latest_facilities.first_reported_month,
        {%- endif %}
        latest_facilities.last_reported_month,
        latest_facilities.last_reported_month = latest_register_months.latest_register_month
            as is_in_latest_register
    from latest_facilities
    left join types_by_register_type
        on
            latest_facilities.source_dataset = types_by_register_type.source_dataset
            and latest_facilities.register_type = types_by_register_type.register_type
    left join latest_register_months
        on latest_facilities.source_dataset = latest_register_months.source_dataset
    left join dim_district
        on latest_facilities.district_code = dim_district.district_code
    left join dim_department
        on latest_facilities.source_department = dim_department.department
    {%- if mode == 'append' %}
    left join recorded_first_months
        on
            latest_facilities.source_dataset = recorded_first_months.source_dataset
            and latest_facilities.facility_id = recorded_first_months.facility_id
    {%- endif %}

)

{{ contract_typed_select('facilities_typed') }}
