-- One row per correction case; is_open until a later accepted version
-- of the delivery no longer has the problem.

with

correction_cases as (

    select * from {{ source('meta', 'correction_cases') }}

),

renamed as (

    select
        case_id,
        dataset,
        report_month,
        kind as case_kind,
        rule_id,
        deadline as deadline_date,
        opened_at,
        closed_at,
        closed_at is null as is_open
    from correction_cases

)

select * from renamed
