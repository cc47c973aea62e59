{#-
    One row per territorial spatial plan ("三级三类": 市级/县级/乡级 ×
    总体规划/详细规划/相关专项规划) per report month: where its preparation
    and approval stand, and whether its approval is overdue.

    is_approval_overdue: not approved (status other than 已批复) and the
    planned approval date is on or before the last day of the report month.

    Incremental by month (macros/incremental_by_month.sql).
-#}

{%- set month_inputs = [
    {'ref': 'stg_nrp__spatial_plans'},
] %}

{{ config(**incremental_by_month_config(month_inputs, index_columns=['district_code'])) }}

with

dim_district as (

    select * from {{ ref('dim_district') }}

),

spatial_plans as (

    select * from {{ ref('stg_nrp__spatial_plans') }}

),

month_fingerprints as (

    {{ month_input_fingerprints(month_inputs) }}

),

months_to_build as (

    {{ months_to_build('month_fingerprints') }}

),

plans_to_build as (

    select
        spatial_plans.*,
        months_to_build.input_fingerprint,
        (spatial_plans.report_month + interval '1 month' - interval '1 day')::date as report_month_end_date
    from spatial_plans
    {{ join_months_to_build('spatial_plans', month_inputs) }}

),

plans_assessed as (

    select
        *,
        status = '已批复' as is_approved,
        status <> '已批复'
        and coalesce(planned_approval_date <= report_month_end_date, false) as is_approval_overdue,
        case
            when status <> '已批复' and planned_approval_date <= report_month_end_date
                then report_month_end_date - planned_approval_date
        end as days_overdue
    from plans_to_build

),

labels_joined as (

    select
        plans_assessed.*,
        dim_district.district_name
    from plans_assessed
    left join dim_district
        on plans_assessed.district_code = dim_district.district_code

),

final as (

    select
        report_month,
        plan_code,
        plan_name,
        plan_level,
        plan_type,
        district_code,
        district_name,
        status,
        planned_approval_date,
        approval_date,
        is_approved,
        is_approval_overdue,
        days_overdue
    from labels_joined

)

{{ contract_typed_select('final') }}
