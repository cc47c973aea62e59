-- One row per version of a delivery, as meta.deliveries records it, with
-- the dataset's department split out.

with

deliveries as (

    select * from {{ source('meta', 'deliveries') }}

),

renamed as (

    select
        delivery_id,
        dataset,
        split_part(dataset, '.', 1) as department,
        report_month,
        version,
        status,
        status_reason,
        rejection_kind,
        file_name,
        received_at,
        decided_at,
        rows_received,
        rows_loaded,
        rows_quarantined
    from deliveries

)

select * from renamed
