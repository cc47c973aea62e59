-- The month's status for the first page: certified (正式数) or provisional (初步数), and the counts behind it.
-- One row, or none when the delivery ledger has not scheduled the month.
select
    report_month,
    is_certified,
    certification_status,
    datasets_expected,
    datasets_accepted,
    datasets_waived,
    datasets_rejected,
    datasets_missing,
    datasets_late,
    datasets_outstanding
from marts.dim_report_month
where report_month = %(report_month)s
