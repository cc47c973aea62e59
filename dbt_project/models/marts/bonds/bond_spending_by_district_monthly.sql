{#-
    One row per district per report month: the special-bond money allocated
    to the district's projects, what they have spent, the spending progress
    and the district's rank in the city — the imbalance between districts.

    Every district of the city has a row in every month with bond data;
    a district with no allocation has 0 allocated, null progress and no
    rank. rank_in_city: 1 = highest spending progress; ties share a rank.

    Incremental by month, on fct_bond_spending_monthly's own fingerprints:
    a month of the fact that was rebuilt (including for a correction two
    months earlier) is rebuilt here.
-#}

{%- set month_inputs = [
    {'ref': 'fct_bond_spending_monthly', 'built_by_month': true},
] %}

{{ config(**incremental_by_month_config(month_inputs, index_columns=['district_code'])) }}

with

dim_district as (

    select * from {{ ref('dim_district') }}

),

-- Every figure is of one month: an incremental build reads the months it
-- builds (macros/incremental_by_month.sql, months_to_build_literals).
bond_spending as (

    select * from {{ ref('fct_bond_spending_monthly') }}
    where {{ months_to_build_literals('report_month', month_inputs) }}

),

-- The city's districts, from the same seed dim_district is built from.
districts as (

    select * from {{ ref('districts') }}

),

month_fingerprints as (

    {{ month_input_fingerprints(month_inputs) }}

),

months_to_build as (

    {{ months_to_build('month_fingerprints') }}

),

bond_months as (

    select distinct report_month
    from bond_spending

),

months_with_fingerprints as (

    select
        bond_months.report_month,
        months_to_build.input_fingerprint
    from bond_months
    {{ join_months_to_build('bond_months', month_inputs) }}

),

district_months as (

    select
        months_with_fingerprints.report_month,
        months_with_fingerprints.input_fingerprint,
        districts.district_code
    from months_with_fingerprints
    cross join districts

),

spending_by_district as (

    select
        report_month,
        district_code,
        count(*) as bond_project_count,
        sum(allocated_wan) as allocated_wan,
        sum(month_spent_wan) as month_spent_wan,
        sum(cumulative_spent_wan) as cumulative_spent_wan,
        count(*) filter (where is_idle) as idle_allocation_count,
        coalesce(sum(unspent_wan) filter (where is_idle), 0) as idle_unspent_wan
    from bond_spending
    group by report_month, district_code

),

spending_in_city as (

    select
        report_month,
        {{ safe_divide('sum(cumulative_spent_wan)', 'sum(allocated_wan)') }} as city_spending_progress
    from bond_spending
    group by report_month

),

districts_measured as (

    select
        district_months.report_month,
        district_months.district_code,
        district_months.input_fingerprint,
        coalesce(spending_by_district.bond_project_count, 0) as bond_project_count,
        coalesce(spending_by_district.allocated_wan, 0) as allocated_wan,
        coalesce(spending_by_district.month_spent_wan, 0) as month_spent_wan,
        coalesce(spending_by_district.cumulative_spent_wan, 0) as cumulative_spent_wan,
        {{ safe_divide('spending_by_district.cumulative_spent_wan', 'spending_by_district.allocated_wan') }}
            as spending_progress,
        coalesce(spending_by_district.idle_allocation_count, 0) as idle_allocation_count,
        coalesce(spending_by_district.idle_unspent_wan, 0) as idle_unspent_wan,
        spending_in_city.city_spending_progress
    from district_months
    left join spending_by_district
        on
            district_months.report_month = spending_by_district.report_month
            and district_months.district_code = spending_by_district.district_code
    left join spending_in_city
        on district_months.report_month = spending_in_city.report_month

),

districts_ranked as (

    select
        *,
        case
            when spending_progress is not null
                then rank() over (
                    partition by report_month, spending_progress is null
                    order by spending_progress desc
                )
        end as rank_in_city,
        count(spending_progress) over (partition by report_month) as districts_ranked,
        trim_scale((spending_progress - city_spending_progress) * 100) as gap_to_city_pp
    from districts_measured

),

labels_joined as (

    select
        districts_ranked.*,
        dim_district.district_name
    from districts_ranked
    left join dim_district
        on districts_ranked.district_code = dim_district.district_code

),

final as (

    select
        report_month,
        district_code,
        district_name,
        allocated_wan,
        cumulative_spent_wan,
        spending_progress,
        rank_in_city,
        districts_ranked,
        month_spent_wan,
        city_spending_progress,
        gap_to_city_pp,
        bond_project_count,
        idle_allocation_count,
        idle_unspent_wan
    from labels_joined

)

{{ contract_typed_select('final') }}
