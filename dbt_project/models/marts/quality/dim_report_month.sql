-- One row per report month the ledger schedules: is the month certified
-- (every dataset accepted or waived) or still provisional? BI filters any
-- mart on it by joining report_month:
--
--     inner join marts.dim_report_month using (report_month)
--     where dim_report_month.is_certified

with

deliveries_by_month as (

    select * from {{ ref('fct_department_delivery_monthly') }}

),

months_counted as (

    select
        report_month,
        count(*) as datasets_expected,
        count(*) filter (where status in ('accepted', 'corrected')) as datasets_accepted,
        count(*) filter (where status = 'waived') as datasets_waived,
        count(*) filter (where status = 'rejected') as datasets_rejected,
        count(*) filter (where is_missing and not is_waived) as datasets_missing,
        count(*) filter (where is_late) as datasets_late,
        count(*) filter (where not is_closed) as datasets_outstanding,
        bool_and(is_closed) as is_certified,
        max(coalesce(accepted_at, waived_at)) as last_closed_at,
        coalesce(sum(rows_loaded), 0) as rows_loaded,
        coalesce(sum(rows_quarantined), 0) as rows_quarantined
    from deliveries_by_month
    group by report_month

),

final as (

    select
        report_month,
        extract(year from report_month)::integer as report_year,
        extract(month from report_month)::integer as report_month_number,
        to_char(report_month, 'YYYY"年"FMMM"月"') as report_month_label,
        is_certified,
        case when is_certified then 'certified' else 'provisional' end as certification_status,
        case when is_certified then '已认证' else '临时' end as certification_status_name,
        case when is_certified then last_closed_at end as certified_at,
        datasets_expected::integer as datasets_expected,
        datasets_accepted::integer as datasets_accepted,
        datasets_waived::integer as datasets_waived,
        datasets_rejected::integer as datasets_rejected,
        datasets_missing::integer as datasets_missing,
        datasets_late::integer as datasets_late,
        datasets_outstanding::integer as datasets_outstanding,
        rows_loaded::bigint as rows_loaded,
        rows_quarantined::bigint as rows_quarantined
    from months_counted

)

{{ contract_typed_select('final') }}
