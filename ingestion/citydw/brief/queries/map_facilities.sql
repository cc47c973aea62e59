-- 一张图: every livelihood facility with coordinates in the month's registers, in service or planned / under
-- construction, one point per facility (marts.fct_facility_register_monthly: the registers as of the month,
-- what fct_facility_coverage_monthly counts; marts.dim_facility holds only the latest state).
select distinct on (source_dataset, facility_id)
    facility_name,
    district_code,
    facility_type,
    lat::float8 as lat,
    lng::float8 as lng,
    case when is_in_service then '在用' else '规划及在建' end as state
from marts.fct_facility_register_monthly
where report_month = %(report_month)s and lat is not null and lng is not null
order by source_dataset, facility_id, facility_type
