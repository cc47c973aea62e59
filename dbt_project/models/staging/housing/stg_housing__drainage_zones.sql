-- One row per drainage compliance zone (排水达标区) per report month, from the
-- 排水达标区建设进度表. The completion percentage becomes a fraction
-- (completion_rate, 0–1).

with

drainage_zones as (

    select * from {{ source('housing', 'drainage_zones') }}

),

renamed as (

    select
        report_month,
        zone_code,
        zone_name,
        district as district_code,
        area_km2,
        plan_year::integer as plan_year,
        status,
        trim_scale(completion_pct / 100) as completion_rate,
        delivery_id,
        source_row,
        loaded_at

    from drainage_zones

)

select * from renamed
