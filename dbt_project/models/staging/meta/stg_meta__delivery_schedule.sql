-- One row per dataset × report month a delivery is expected for, with its
-- due date on the official working-day calendar.

with

delivery_schedule as (

    select * from {{ source('meta', 'delivery_schedule') }}

),

renamed as (

    select
        dataset,
        report_month,
        department,
        department_name,
        dataset_title,
        due_date
    from delivery_schedule

)

select * from renamed
