{#-
    One row per district per report month: demolition (征地拆迁) from
    January to the month against the year's target and against last year's
    total, and land requisitioned.

    prev_year_total_demolished is the district's largest year-to-date figure
    reported in the previous calendar year — its December report, or the
    last one it sent (ytd_demolished never decreases within a year). Null
    when the warehouse holds no report of that year.

    Incremental by month: month M reads M and every month of the year
    before, so a correction of a December rebuilds all of the next year.
-#}

{%- set month_inputs = [
    {'ref': 'stg_expropriation__demolition_progress', 'previous_year': true},
] %}

{{ config(**incremental_by_month_config(month_inputs, index_columns=['district_code'])) }}

with

dim_district as (

    select * from {{ ref('dim_district') }}

),

demolition_progress as (

    select * from {{ ref('stg_expropriation__demolition_progress') }}

),

month_fingerprints as (

    {{ month_input_fingerprints(month_inputs) }}

),

months_to_build as (

    {{ months_to_build('month_fingerprints') }}

),

demolition_to_build as (

    select
        demolition_progress.*,
        months_to_build.input_fingerprint
    from demolition_progress
    {{ join_months_to_build('demolition_progress', month_inputs) }}

),

previous_year_totals as (

    select
        district_code,
        extract(year from report_month)::integer + 1 as following_year,
        max(ytd_demolished) as prev_year_total_demolished
    from demolition_progress
    group by district_code, extract(year from report_month)

),

previous_year_same_period as (

    select
        district_code,
        (report_month + interval '1 year')::date as report_month_a_year_later,
        ytd_demolished as prev_year_ytd_demolished
    from demolition_progress

),

progress_compared as (

    select
        demolition_to_build.report_month,
        demolition_to_build.district_code,
        demolition_to_build.annual_target,
        demolition_to_build.ytd_demolished,
        {{ safe_divide('demolition_to_build.ytd_demolished', 'demolition_to_build.annual_target') }}
            as target_completion_rate,
        previous_year_totals.prev_year_total_demolished,
        {{ safe_divide('demolition_to_build.ytd_demolished', 'previous_year_totals.prev_year_total_demolished') }}
            as prev_year_total_rate,
        previous_year_same_period.prev_year_ytd_demolished,
        demolition_to_build.month_demolished,
        demolition_to_build.month_households,
        demolition_to_build.month_land_mu,
        demolition_to_build.ytd_land_mu,
        demolition_to_build.delivery_id,
        demolition_to_build.loaded_at,
        demolition_to_build.input_fingerprint
    from demolition_to_build
    left join previous_year_totals
        on
            demolition_to_build.district_code = previous_year_totals.district_code
            and extract(year from demolition_to_build.report_month) = previous_year_totals.following_year
    left join previous_year_same_period
        on
            demolition_to_build.district_code = previous_year_same_period.district_code
            and demolition_to_build.report_month = previous_year_same_period.report_month_a_year_later

),

labels_joined as (

    select
        progress_compared.*,
        dim_district.district_name
    from progress_compared
    left join dim_district
        on progress_compared.district_code = dim_district.district_code

),

final as (

    select
        report_month,
        district_code,
        district_name,
        annual_target,
        ytd_demolished,
        target_completion_rate,
        prev_year_total_demolished,
        ytd_land_mu,
        prev_year_total_rate,
        prev_year_ytd_demolished,
        month_demolished,
        month_households,
        month_land_mu
    from labels_joined

)

{{ contract_typed_select('final') }}
