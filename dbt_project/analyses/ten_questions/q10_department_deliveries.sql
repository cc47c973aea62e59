-- Q10. Which departments delivered late, wrong, or not at all, month by
-- month: every dataset × month of the asked month's year up to it with a
-- missing or late delivery, a rejected one (blocking failures), or rows
-- quarantined. Columns are fct_department_delivery_monthly's contract
-- columns (DESIGN.md), built by the delivery ledger (models/marts/quality/).
-- Month asked: `set citydw.report_month = 'YYYY-MM-01';` first, else the latest month.
-- (No depends_on ref: the delivery ledger mart is built by another part of
-- the project and may be absent from a checkout.)

with

asked as (

    select
        coalesce(
            nullif(current_setting('citydw.report_month', true), '')::date,
            (select max(report_month) from marts.fct_department_delivery_monthly)
        ) as report_month

)

select
    fct_department_delivery_monthly.report_month,
    fct_department_delivery_monthly.department,
    fct_department_delivery_monthly.dataset,
    case
        when fct_department_delivery_monthly.is_missing then '未报送'
        when fct_department_delivery_monthly.blocking_failures > 0 then '报送有误（被退回）'
        when fct_department_delivery_monthly.is_late then '逾期报送'
        else '部分数据有误'
    end as problem,
    fct_department_delivery_monthly.is_missing,
    fct_department_delivery_monthly.is_late,
    fct_department_delivery_monthly.working_days_late,
    fct_department_delivery_monthly.due_date,
    fct_department_delivery_monthly.received_at,
    fct_department_delivery_monthly.status,
    fct_department_delivery_monthly.versions_received,
    fct_department_delivery_monthly.rows_received,
    fct_department_delivery_monthly.rows_loaded,
    fct_department_delivery_monthly.rows_quarantined,
    fct_department_delivery_monthly.blocking_failures,
    fct_department_delivery_monthly.warnings
from marts.fct_department_delivery_monthly
inner join asked
    on
        fct_department_delivery_monthly.report_month
        between date_trunc('year', asked.report_month)::date and asked.report_month
where
    fct_department_delivery_monthly.is_missing
    or fct_department_delivery_monthly.is_late
    or fct_department_delivery_monthly.blocking_failures > 0
    or fct_department_delivery_monthly.rows_quarantined > 0
order by
    fct_department_delivery_monthly.report_month,
    fct_department_delivery_monthly.department,
    fct_department_delivery_monthly.dataset
