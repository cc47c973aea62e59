-- Q6 (回头看): facilities planned for an earlier year and still not started, one row per facility, from the
-- registers as last reported up to the month. A nine-year school counts once here (it is one building).
-- Type names come from the standards seed (staging.facility_standards) until the mart carries facility_type_name.
select
    dim_facility.facility_name,
    dim_district.district_name,
    coalesce(facility_standards.facility_type_name, dim_facility.register_type) as facility_type_name,
    dim_facility.plan_year,
    dim_facility.capacity,
    dim_facility.status
from marts.dim_facility
left join marts.dim_district
    on dim_facility.district_code = dim_district.district_code
left join staging.facility_standards
    on dim_facility.facility_types[1] = facility_standards.facility_type
where
    dim_facility.status = '规划'
    and dim_facility.plan_year < extract(year from %(report_month)s::date)
    and dim_facility.first_reported_month <= %(report_month)s
    and dim_facility.last_reported_month >= %(report_month)s
    and cardinality(dim_facility.facility_types) > 0
order by dim_facility.plan_year, dim_district.district_name, dim_facility.facility_name
