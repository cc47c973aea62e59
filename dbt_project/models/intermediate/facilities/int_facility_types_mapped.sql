-- One row per facility × facility type it counts for × report month: the
-- registers' rows mapped to the six facility types of facility_standards by
-- the facility_type_mapping seed. A 九年一贯制学校 gives two rows (primary
-- and middle school) with its places split by grades, rounded to whole
-- places so that the two parts add up to the school's capacity; register
-- types mapped to no facility type (日间照料中心, 养老院, 社区卫生服务站) give none.


{#- The months that changed since the last build, for the data tests (macros/where_subquery.sql). #}
{{ config(post_hook=["{{ record_tested_months([{'ref': 'stg_education__schools'}, {'ref': 'stg_health__clinics'}, {'ref': 'stg_civil_affairs__elderly_care'}, {'ref': 'stg_urban_mgmt__parking_lots'}]) }}"]) }}

with

facilities as (

    select * from {{ ref('int_facilities_unioned') }}

),

facility_type_mapping as (

    select * from {{ ref('facility_type_mapping') }}

),

facilities_mapped as (

    select
        facilities.report_month,
        facility_type_mapping.facility_type,
        facilities.source_dataset,
        facilities.facility_id,
        facilities.facility_name,
        facilities.register_type,
        facilities.district_code,
        facilities.street,
        facilities.lng,
        facilities.lat,
        facilities.capacity as register_capacity,
        facility_type_mapping.share_numerator,
        facility_type_mapping.share_denominator,
        facilities.status,
        facilities.plan_year,
        facilities.start_date,
        facilities.open_date
    from facilities
    inner join facility_type_mapping
        on
            facilities.source_dataset = facility_type_mapping.source_dataset
            and facilities.register_type = facility_type_mapping.register_type
    where facility_type_mapping.facility_type is not null

),

-- The shares of one facility, in mapping order, rounded cumulatively: each
-- part is round(cumulative share) − round(previous cumulative share), so
-- 1000 places split 6/9 and 3/9 give 667 + 333, never 667 + 333 ± 1.
capacity_shared as (

    select
        *,
        round(
            register_capacity::numeric * sum(share_numerator) over facility_shares / share_denominator
        )
        - round(
            register_capacity::numeric
            * (sum(share_numerator) over facility_shares - share_numerator)
            / share_denominator
        ) as capacity
    from facilities_mapped
    window facility_shares as (
        partition by report_month, source_dataset, facility_id
        order by facility_type
        rows between unbounded preceding and current row
    )

),

final as (

    select
        report_month,
        facility_type,
        source_dataset,
        facility_id,
        facility_name,
        register_type,
        district_code,
        street,
        lng,
        lat,
        capacity,
        register_capacity,
        status,
        plan_year,
        start_date,
        open_date
    from capacity_shared

)

select * from final
