-- Q6 (回头看): facilities planned for an earlier year and still not started (status 规划) in the month's
-- registers, one row per facility, with the facility types it counts for in fct_facility_coverage_monthly
-- (a nine-year school is a primary and a middle school): type_count summed over the rows is Q6's total.
-- From marts.fct_facility_register_monthly, the registers as of the month (the rows the coverage mart counts):
-- marts.dim_facility holds only each facility's latest state, which is wrong for a past month.
select
    facility_name,
    district_name,
    string_agg(
        facility_type_name, '、'
        order by array_position(
            array['kindergarten', 'primary_school', 'middle_school', 'community_health_center',
                  'elderly_care_complex', 'public_parking'],
            facility_type
        )
    ) as facility_type_names,
    count(*) as type_count,
    plan_year,
    register_capacity as capacity,
    status
from marts.fct_facility_register_monthly
where report_month = %(report_month)s and is_carried_over_not_started
group by source_dataset, facility_id, facility_name, district_name, plan_year, register_capacity, status
order by plan_year, district_name, facility_name
