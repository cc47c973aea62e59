-- Q7, by district: per district × facility type, capacity per 1000 against the standard and the share of
-- residents within the service radius of an in-service facility (a fraction).
select
    district_code,
    district_name,
    facility_type,
    facility_type_name,
    capacity_per_1000,
    standard_per_1000,
    meets_standard,
    residents_within_radius_share,
    service_radius_m
from marts.fct_facility_coverage_monthly
where report_month = %(report_month)s
order by
    district_code,
    array_position(
        array['kindergarten', 'primary_school', 'middle_school', 'community_health_center', 'elderly_care_complex',
              'public_parking'],
        facility_type
    )
