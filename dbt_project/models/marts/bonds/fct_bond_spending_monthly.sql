{#-
    One row per special-purpose bond × project per report month: what was
    allocated, spent this month and in total, the spending progress, and
    whether the allocation lies idle.

    is_idle: money is left (cumulative spent below allocated) and nothing
    was spent in the last 3 months: the month's report and the reports of
    the two months before all show month_spent_wan = 0 for the same bond ×
    project. All three reports must exist: a month without a report is not
    evidence of idleness, so an allocation first reported in the last two
    months is never idle yet.

    Incremental by month: month M reads months M-2 … M of the allocations,
    so a correction of month M rebuilds M, M+1 and M+2
    (macros/incremental_by_month.sql).
-#}

{%- set month_inputs = [
    {'ref': 'stg_finance__bond_allocations', 'lookback_months': 2},
] %}

{{ config(**incremental_by_month_config(month_inputs, index_columns=['district_code', 'project_code'])) }}

with

dim_district as (

    select * from {{ ref('dim_district') }}

),

bond_allocations as (

    select * from {{ ref('stg_finance__bond_allocations') }}

),

month_fingerprints as (

    {{ month_input_fingerprints(month_inputs) }}

),

months_to_build as (

    {{ months_to_build('month_fingerprints') }}

),

allocations_to_build as (

    select
        bond_allocations.*,
        months_to_build.input_fingerprint
    from bond_allocations
    {{ join_months_to_build('bond_allocations', month_inputs) }}

),

-- The same bond × project in the two reports before, read from all months
-- (not only those being built).
allocations_with_previous_reports as (

    select
        allocations_to_build.*,
        one_month_before.month_spent_wan as month_spent_1_month_before_wan,
        two_months_before.month_spent_wan as month_spent_2_months_before_wan,
        one_month_before.report_month is not null
        and two_months_before.report_month is not null as has_previous_two_reports
    from allocations_to_build
    left join bond_allocations as one_month_before
        on
            allocations_to_build.bond_code = one_month_before.bond_code
            and allocations_to_build.project_code = one_month_before.project_code
            and one_month_before.report_month
            = (allocations_to_build.report_month - interval '1 month')::date
    left join bond_allocations as two_months_before
        on
            allocations_to_build.bond_code = two_months_before.bond_code
            and allocations_to_build.project_code = two_months_before.project_code
            and two_months_before.report_month
            = (allocations_to_build.report_month - interval '2 months')::date

),

spending_assessed as (

    select
        *,
        {{ safe_divide('cumulative_spent_wan', 'allocated_wan') }} as spending_progress,
        allocated_wan - cumulative_spent_wan as unspent_wan,
        case
            when has_previous_two_reports
                then
                    coalesce(month_spent_wan, 0)
                    + coalesce(month_spent_1_month_before_wan, 0)
                    + coalesce(month_spent_2_months_before_wan, 0)
        end as spent_last_3_months_wan
    from allocations_with_previous_reports

),

idleness_assessed as (

    select
        *,
        coalesce(
            allocated_wan > 0
            and cumulative_spent_wan < allocated_wan
            and spent_last_3_months_wan = 0,
            false
        ) as is_idle
    from spending_assessed

),

labels_joined as (

    select
        idleness_assessed.*,
        dim_district.district_name
    from idleness_assessed
    left join dim_district
        on idleness_assessed.district_code = dim_district.district_code

),

final as (

    select
        report_month,
        bond_code,
        bond_type,
        project_code,
        district_code,
        district_name,
        allocated_wan,
        month_spent_wan,
        cumulative_spent_wan,
        spending_progress,
        is_idle,
        unspent_wan,
        spent_last_3_months_wan,
        bond_name,
        issue_date,
        term_years,
        coupon_rate,
        project_name,
        sector
    from labels_joined

)

{{ contract_typed_select('final') }}
