-- Q10. Which departments delivered late, wrong, or not at all, month by
-- month: every dataset × report month with a missing or late delivery, a
-- rejected one (blocking failures), or rows quarantined. report_month is the
-- month the delivery reports on: pick a month, or a range (January to the
-- month) for the year so far. problem names the worst of the problems.

with

department_deliveries as (

    select * from {{ ref('fct_department_delivery_monthly') }}

),

final as (

    select
        report_month,
        department,
        department_name,
        dataset,
        dataset_title,
        case
            when is_missing then '未报送'
            when blocking_failures > 0 then '报送有误（被退回）'
            when is_late then '逾期报送'
            else '部分数据有误'
        end as problem,
        is_missing,
        is_late,
        working_days_late,
        due_date,
        received_at,
        status,
        status_name,
        versions_received,
        rows_received,
        rows_loaded,
        rows_quarantined,
        blocking_failures,
        warnings
    from department_deliveries
    where
        is_missing
        or is_late
        or blocking_failures > 0
        or rows_quarantined > 0

)

{{ contract_typed_select('final') }}
