-- One row per rule evaluated on a delivery version.

with

validation_results as (

    select * from {{ source('meta', 'validation_results') }}

),

renamed as (

    select
        result_id,
        delivery_id,
        rule_id,
        expectation_type,
        column_name,
        severity,
        description as rule_description,
        success as is_success,
        element_count,
        unexpected_count
    from validation_results

)

select * from renamed
