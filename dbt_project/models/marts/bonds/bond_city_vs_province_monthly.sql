{#-
    One row per report month: the city against the province in special
    bonds.

    From the provincial bulletin (全省新增专项债券发行使用情况通报), one row
    per prefecture city: the city's own row gives issued_ytd_wan and
    issued_ytd_prev_year_wan (Jan–M new special-bond issuance, this year and
    the same months of last year); issued_yoy_growth = issued ÷ last year's
    − 1; the city's rank among the bulletin's cities by issuance and by
    growth (rank 1 = largest; ties share a rank; a city without last year's
    figure has no growth and is not ranked by it); province_city_count is
    the number of cities in the bulletin (rows whose code is the province's
    own, a total row, are not cities).

    Spending progress, two definitions:
    - spending_progress is the city's own, from its bond_allocations:
      Σ cumulative_spent ÷ Σ allocated over every bond × project of the
      month (new and refinancing bonds, every issue year).
    - The bulletin's (省口径) is spent ÷ issued of the new bonds issued this
      year. province_avg_spending_progress is the province's as a whole on
      that basis, Σ spent_ytd ÷ Σ issued_ytd over the bulletin's cities (the
      全省合计 row's figure, weighted by issuance); the plain mean of the
      cities' stated progress is province_mean_spending_progress, and the
      city's own bulletin figure is bulletin_spending_progress.
    spending_progress_gap_pp = (spending_progress −
    province_avg_spending_progress) × 100, as the contract defines it; the
    like-for-like gap on the bulletin's basis is bulletin_spending_progress_gap_pp.

    Months: every month with a bulletin or with allocations; bulletin
    columns are null until the bulletin arrives (it is due on the 10th
    working day, after the allocations).
-#}

{%- set month_inputs = [
    {'ref': 'stg_finance__province_bond_bulletin'},
    {'ref': 'fct_bond_spending_monthly', 'built_by_month': true},
] %}

{{ config(**incremental_by_month_config(month_inputs)) }}

with

-- Every figure is of one month: an incremental build reads the months it
-- builds (macros/incremental_by_month.sql, months_to_build_literals).
province_bond_bulletin as (

    select * from {{ ref('stg_finance__province_bond_bulletin') }}
    where {{ months_to_build_literals('report_month', month_inputs) }}

),

bond_spending as (

    select * from {{ ref('fct_bond_spending_monthly') }}
    where {{ months_to_build_literals('report_month', month_inputs) }}

),

city as (

    select * from {{ ref('city') }}

),

month_fingerprints as (

    {{ month_input_fingerprints(month_inputs) }}

),

months_to_build as (

    {{ months_to_build('month_fingerprints') }}

),

report_months as (

    select report_month from province_bond_bulletin
    union
    select report_month from bond_spending

),

months_with_fingerprints as (

    select
        report_months.report_month,
        months_to_build.input_fingerprint
    from report_months
    {{ join_months_to_build('report_months', month_inputs) }}

),

-- The bulletin's cities: prefecture codes (ending 00) other than the
-- province's own code, which only a total row would carry.
bulletin_cities as (

    select
        province_bond_bulletin.*,
        {{ safe_divide('province_bond_bulletin.issued_ytd_wan', 'province_bond_bulletin.issued_ytd_prev_year_wan') }}
        - 1 as issued_yoy_growth
    from province_bond_bulletin
    cross join city
    where
        province_bond_bulletin.city_code like '%00'
        and province_bond_bulletin.city_code <> city.province_code

),

bulletin_cities_ranked as (

    select
        *,
        rank() over (
            partition by report_month
            order by issued_ytd_wan desc nulls last
        ) as rank_by_issued,
        case
            when issued_yoy_growth is not null
                then rank() over (
                    partition by report_month, issued_yoy_growth is null
                    order by issued_yoy_growth desc
                )
        end as rank_by_growth
    from bulletin_cities

),

province_totals as (

    select
        report_month,
        {{ safe_divide('sum(spent_ytd_wan)', 'sum(issued_ytd_wan)') }} as province_avg_spending_progress,
        trim_scale(avg(spending_progress)) as province_mean_spending_progress,
        count(*) as city_count
    from bulletin_cities
    group by report_month

),

city_in_bulletin as (

    select bulletin_cities_ranked.*
    from bulletin_cities_ranked
    inner join city
        on bulletin_cities_ranked.city_code = city.city_code

),

city_own_spending as (

    select
        report_month,
        sum(allocated_wan) as allocated_wan,
        sum(cumulative_spent_wan) as cumulative_spent_wan,
        {{ safe_divide('sum(cumulative_spent_wan)', 'sum(allocated_wan)') }} as spending_progress
    from bond_spending
    group by report_month

),

months_compared as (

    select
        months_with_fingerprints.report_month,
        city_in_bulletin.issued_ytd_wan,
        city_in_bulletin.issued_ytd_prev_year_wan,
        city_in_bulletin.issued_yoy_growth,
        city_in_bulletin.rank_by_issued as province_rank_by_issued,
        city_in_bulletin.rank_by_growth as province_rank_by_growth,
        province_totals.city_count as province_city_count,
        city_own_spending.spending_progress,
        province_totals.province_avg_spending_progress,
        trim_scale(
            (city_own_spending.spending_progress - province_totals.province_avg_spending_progress) * 100
        ) as spending_progress_gap_pp,
        city_own_spending.allocated_wan,
        city_own_spending.cumulative_spent_wan,
        city_in_bulletin.spent_ytd_wan as bulletin_spent_ytd_wan,
        city_in_bulletin.spending_progress as bulletin_spending_progress,
        trim_scale(
            (city_in_bulletin.spending_progress - province_totals.province_avg_spending_progress) * 100
        ) as bulletin_spending_progress_gap_pp,
        province_totals.province_mean_spending_progress,
        city_in_bulletin.report_month is not null as has_bulletin,
        months_with_fingerprints.input_fingerprint
    from months_with_fingerprints
    left join city_in_bulletin
        on months_with_fingerprints.report_month = city_in_bulletin.report_month
    left join province_totals
        on months_with_fingerprints.report_month = province_totals.report_month
    left join city_own_spending
        on months_with_fingerprints.report_month = city_own_spending.report_month

),

final as (

    select
        report_month,
        issued_ytd_wan,
        issued_ytd_prev_year_wan,
        issued_yoy_growth,
        province_rank_by_issued,
        province_rank_by_growth,
        province_city_count,
        spending_progress,
        province_avg_spending_progress,
        spending_progress_gap_pp,
        allocated_wan,
        cumulative_spent_wan,
        bulletin_spent_ytd_wan,
        bulletin_spending_progress,
        bulletin_spending_progress_gap_pp,
        province_mean_spending_progress,
        has_bulletin
    from months_compared

)

{{ contract_typed_select('final') }}
