-- One row per day of the official calendar: working day or not.

with

working_days as (

    select * from {{ source('meta', 'working_days') }}

),

renamed as (

    select
        day as calendar_date,
        is_working_day,
        holiday_name
    from working_days

)

select * from renamed
