{#-
    One row per drainage compliance zone (排水达标区) per report month: how
    far its works have come against the plan.

    Behind plan (is_behind_plan), for a zone not yet 已达标, either:
    - overdue: its plan year has passed (plan_year < the report month's
      year), or
    - behind the linear path: in its plan year, the completion rate is below
      the share of the year elapsed at the end of the report month
      (expected_completion_rate = month ÷ 12: 0.25 at the end of March).
    A zone planned for a later year has no expectation yet (0), so it is
    never behind; a zone 已达标 is never behind. The linear path assumes
    the work of the plan year is spread evenly over it: the zones have no
    start date.

    Incremental by month (macros/incremental_by_month.sql).
-#}

{%- set month_inputs = [
    {'ref': 'stg_housing__drainage_zones'},
] %}

{{ config(**incremental_by_month_config(month_inputs, index_columns=['district_code'])) }}

with

dim_district as (

    select * from {{ ref('dim_district') }}

),

drainage_zones as (

    select * from {{ ref('stg_housing__drainage_zones') }}

),

month_fingerprints as (

    {{ month_input_fingerprints(month_inputs) }}

),

months_to_build as (

    {{ months_to_build('month_fingerprints') }}

),

zones_to_build as (

    select
        drainage_zones.*,
        months_to_build.input_fingerprint,
        extract(year from drainage_zones.report_month)::integer as report_year,
        extract(month from drainage_zones.report_month)::integer as report_month_number
    from drainage_zones
    {{ join_months_to_build('drainage_zones', month_inputs) }}

),

zones_against_path as (

    select
        *,
        coalesce(status = '已达标', false) as is_compliant,
        case
            when plan_year < report_year then 1
            when plan_year = report_year then trim_scale(report_month_number::numeric / 12)
            else 0
        end as expected_completion_rate
    from zones_to_build

),

zones_assessed as (

    select
        *,
        trim_scale((completion_rate - expected_completion_rate) * 100) as completion_gap_pp,
        not is_compliant and coalesce(plan_year < report_year, false) as is_overdue,
        not is_compliant
        and coalesce(plan_year = report_year and completion_rate < expected_completion_rate, false)
            as is_behind_linear_path
    from zones_against_path

),

labels_joined as (

    select
        zones_assessed.*,
        dim_district.district_name
    from zones_assessed
    left join dim_district
        on zones_assessed.district_code = dim_district.district_code

),

final as (

    select
        report_month,
        zone_code,
        zone_name,
        district_code,
        district_name,
        area_km2,
        plan_year,
        status,
        completion_rate,
        expected_completion_rate,
        completion_gap_pp,
        is_compliant,
        is_overdue,
        is_behind_linear_path,
        is_overdue or is_behind_linear_path as is_behind_plan
    from labels_joined

)

{{ contract_typed_select('final') }}
