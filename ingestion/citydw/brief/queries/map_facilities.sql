-- 一张图: every livelihood facility with coordinates, in service or planned / under construction, from the
-- registers (latest report of each facility up to the month).
select
    dim_facility.facility_name,
    dim_facility.district_code,
    dim_facility.facility_types[1] as facility_type,
    dim_facility.lat::float8 as lat,
    dim_facility.lng::float8 as lng,
    case when dim_facility.status = '已投用' then '在用' else '规划及在建' end as state
from marts.dim_facility
where
    cardinality(dim_facility.facility_types) > 0
    and dim_facility.lat is not null
    and dim_facility.lng is not null
    and dim_facility.first_reported_month <= %(report_month)s
    and dim_facility.last_reported_month >= %(report_month)s
order by dim_facility.source_dataset, dim_facility.facility_id
