-- Q7, the city: per facility type, capacity in service per 1000 residents against the standard.
select
    facility_type,
    facility_type_name,
    capacity_unit,
    standard_per_1000,
    service_radius_m,
    sum(facilities_in_service) as facilities_in_service,
    sum(capacity_in_service) as capacity_in_service,
    sum(resident_population) as resident_population,
    sum(capacity_in_service) * 1000 / nullif(sum(resident_population), 0) as capacity_per_1000,
    count(*) filter (where not meets_standard) as districts_below_standard,
    count(*) as districts,
    sum(planned_this_year) as planned_this_year,
    sum(started_this_year) as started_this_year,
    sum(completed_this_year) as completed_this_year,
    sum(carried_over_not_started) as carried_over_not_started
from marts.fct_facility_coverage_monthly
where report_month = %(report_month)s
group by facility_type, facility_type_name, capacity_unit, standard_per_1000, service_radius_m
order by array_position(
    array['kindergarten', 'primary_school', 'middle_school', 'community_health_center', 'elderly_care_complex',
          'public_parking'],
    facility_type
)
