-- Q7, the city: per facility type, capacity in service per 1000 residents against the standard.
-- Type names come from the standards seed (staging.facility_standards) until the mart carries facility_type_name.
select
    fct_facility_coverage_monthly.facility_type,
    facility_standards.facility_type_name,
    facility_standards.capacity_unit,
    fct_facility_coverage_monthly.standard_per_1000,
    fct_facility_coverage_monthly.service_radius_m,
    sum(fct_facility_coverage_monthly.facilities_in_service) as facilities_in_service,
    sum(fct_facility_coverage_monthly.capacity_in_service) as capacity_in_service,
    sum(fct_facility_coverage_monthly.resident_population) as resident_population,
    sum(fct_facility_coverage_monthly.capacity_in_service) * 1000
    / nullif(sum(fct_facility_coverage_monthly.resident_population), 0) as capacity_per_1000,
    count(*) filter (where not fct_facility_coverage_monthly.meets_standard) as districts_below_standard,
    count(*) as districts,
    sum(fct_facility_coverage_monthly.planned_this_year) as planned_this_year,
    sum(fct_facility_coverage_monthly.started_this_year) as started_this_year,
    sum(fct_facility_coverage_monthly.completed_this_year) as completed_this_year,
    sum(fct_facility_coverage_monthly.carried_over_not_started) as carried_over_not_started
from marts.fct_facility_coverage_monthly
inner join staging.facility_standards
    on fct_facility_coverage_monthly.facility_type = facility_standards.facility_type
where fct_facility_coverage_monthly.report_month = %(report_month)s
group by
    fct_facility_coverage_monthly.facility_type,
    facility_standards.facility_type_name,
    facility_standards.capacity_unit,
    fct_facility_coverage_monthly.standard_per_1000,
    fct_facility_coverage_monthly.service_radius_m
order by array_position(
    array['kindergarten', 'primary_school', 'middle_school', 'community_health_center', 'elderly_care_complex',
          'public_parking'],
    fct_facility_coverage_monthly.facility_type::text
)
