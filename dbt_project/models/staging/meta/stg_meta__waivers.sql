-- One row per waiver ever recorded; is_active is false once revoked.

with

waivers as (

    select * from {{ source('meta', 'waivers') }}

),

renamed as (

    select
        waiver_id,
        dataset,
        report_month,
        reason as waiver_reason,
        waived_by,
        waived_at,
        revoked_at,
        revoked_at is null as is_active
    from waivers

)

select * from renamed
