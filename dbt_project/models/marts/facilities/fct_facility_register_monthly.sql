{#-
    One row per facility × facility type it counts for × report month: the
    four registers (schools and kindergartens, primary care, elderly care,
    public car parks) as they stood at the end of each report month, mapped
    to the six facility types of fct_facility_coverage_monthly — the rows
    that mart counts, one by one.

    dim_facility holds each facility's latest state, which is wrong for a past
    month (a facility started in March is no longer 规划 in January's list);
    this mart is the month's own register, so a list of a month's facilities
    (回头看, a map of what was in service) agrees with that month's counts.

    - A 九年一贯制学校 gives two rows, primary and middle school, with its
      places split 6/9 and 3/9 (int_facility_types_mapped); register types
      mapped to no facility type (日间照料中心, 养老院, 社区卫生服务站) give
      none, as in the coverage mart.
    - The flags are the coverage mart's definitions, per facility: in service
      (status 已投用), started this year (start date from 1 January to the end
      of the report month), completed this year (in service, open date in
      that span), carried over and not started (plan year before the report
      month's year, status still 规划 — 回头看).

    Incremental by month: month M reads the four registers of M.
-#}

{%- set month_inputs = [
    {'ref': 'stg_education__schools'},
    {'ref': 'stg_health__clinics'},
    {'ref': 'stg_civil_affairs__elderly_care'},
    {'ref': 'stg_urban_mgmt__parking_lots'},
] %}

{{ config(**incremental_by_month_config(month_inputs, index_columns=['district_code', 'facility_type'])) }}

with

dim_district as (

    select * from {{ ref('dim_district') }}

),

dim_facility_type as (

    select * from {{ ref('dim_facility_type') }}

),

facilities as (

    select * from {{ ref('int_facility_types_mapped') }}

),

month_fingerprints as (

    {{ month_input_fingerprints(month_inputs) }}

),

months_to_build as (

    {{ months_to_build('month_fingerprints') }}

),

facilities_of_months as (

    select
        facilities.*,
        date_trunc('year', facilities.report_month)::date as report_year_start_date,
        (facilities.report_month + interval '1 month' - interval '1 day')::date as report_month_end_date
    from facilities
    {{ join_months_to_build('facilities', month_inputs) }}

),

facilities_flagged as (

    select
        *,
        status = '已投用' as is_in_service,
        coalesce(start_date between report_year_start_date and report_month_end_date, false)
            as is_started_this_year,
        coalesce(
            status = '已投用' and open_date between report_year_start_date and report_month_end_date, false
        ) as is_completed_this_year,
        coalesce(
            plan_year < extract(year from report_month) and status = '规划', false
        ) as is_carried_over_not_started
    from facilities_of_months

),

labels_joined as (

    select
        facilities_flagged.*,
        dim_district.district_name,
        dim_facility_type.facility_type_name,
        dim_facility_type.capacity_unit
    from facilities_flagged
    left join dim_district
        on facilities_flagged.district_code = dim_district.district_code
    left join dim_facility_type
        on facilities_flagged.facility_type = dim_facility_type.facility_type

),

final as (

    select
        report_month,
        source_dataset,
        facility_id,
        facility_type,
        facility_type_name,
        facility_name,
        register_type,
        district_code,
        district_name,
        street,
        lng,
        lat,
        status,
        plan_year,
        start_date,
        open_date,
        is_in_service,
        is_started_this_year,
        is_completed_this_year,
        is_carried_over_not_started,
        capacity,
        register_capacity,
        capacity_unit
    from labels_joined

)

{{ contract_typed_select('final') }}
