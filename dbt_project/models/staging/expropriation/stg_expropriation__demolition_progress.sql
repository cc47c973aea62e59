-- One row per district per report month, from the 征地拆迁进度表. Floor areas
-- stay in 万平方米 (the marts' contract names carry no unit suffix; the unit
-- is in the column descriptions); land in 亩 gets the _mu suffix.

with

demolition_progress as (

    select * from {{ source('expropriation', 'demolition_progress') }}

),

renamed as (

    select
        report_month,
        district as district_code,
        annual_target,
        month_demolished,
        ytd_demolished,
        month_households,
        month_land as month_land_mu,
        ytd_land as ytd_land_mu,
        delivery_id,
        source_row,
        loaded_at

    from demolition_progress

)

select * from renamed
