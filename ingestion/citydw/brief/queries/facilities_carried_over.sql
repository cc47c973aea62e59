-- Q6 (回头看): facilities planned for an earlier year and still not started (status 规划) in the month's
-- registers, one row per facility, with the facility types it counts for in fct_facility_coverage_monthly
-- (a nine-year school is a primary and a middle school): type_count summed over the rows is Q6's total.
-- From the registers as of the month (intermediate.int_facility_types_mapped, what the coverage mart counts):
-- marts.dim_facility holds only each facility's latest state, which is wrong for a past month.
-- Type names come from the standards seed (staging.facility_standards) until the mart carries facility_type_name.
select
    int_facility_types_mapped.facility_name,
    dim_district.district_name,
    string_agg(
        facility_standards.facility_type_name, '、'
        order by array_position(
            array['kindergarten', 'primary_school', 'middle_school', 'community_health_center',
                  'elderly_care_complex', 'public_parking'],
            int_facility_types_mapped.facility_type::text
        )
    ) as facility_type_names,
    count(*) as type_count,
    int_facility_types_mapped.plan_year,
    int_facility_types_mapped.register_capacity as capacity,
    int_facility_types_mapped.status
from intermediate.int_facility_types_mapped
left join marts.dim_district
    on int_facility_types_mapped.district_code = dim_district.district_code
inner join staging.facility_standards
    on int_facility_types_mapped.facility_type = facility_standards.facility_type
where
    int_facility_types_mapped.report_month = %(report_month)s
    and int_facility_types_mapped.status = '规划'
    and int_facility_types_mapped.plan_year < extract(year from %(report_month)s::date)
group by
    int_facility_types_mapped.source_dataset,
    int_facility_types_mapped.facility_id,
    int_facility_types_mapped.facility_name,
    dim_district.district_name,
    int_facility_types_mapped.plan_year,
    int_facility_types_mapped.register_capacity,
    int_facility_types_mapped.status
order by int_facility_types_mapped.plan_year, dim_district.district_name, int_facility_types_mapped.facility_name
