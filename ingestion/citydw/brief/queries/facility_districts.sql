-- Q7, by district: per district × facility type, capacity per 1000 against the standard and the share of
-- Type names come from the standards seed (staging.facility_standards) until the mart carries facility_type_name.
-- residents within the service radius of an in-service facility (a fraction).
select
    fct_facility_coverage_monthly.district_code,
    dim_district.district_name,
    fct_facility_coverage_monthly.facility_type,
    facility_standards.facility_type_name,
    fct_facility_coverage_monthly.capacity_per_1000,
    fct_facility_coverage_monthly.standard_per_1000,
    fct_facility_coverage_monthly.meets_standard,
    fct_facility_coverage_monthly.residents_within_radius_share,
    fct_facility_coverage_monthly.service_radius_m
from marts.fct_facility_coverage_monthly
inner join marts.dim_district
    on fct_facility_coverage_monthly.district_code = dim_district.district_code
inner join staging.facility_standards
    on fct_facility_coverage_monthly.facility_type = facility_standards.facility_type
where fct_facility_coverage_monthly.report_month = %(report_month)s
order by
    fct_facility_coverage_monthly.district_code,
    array_position(
        array['kindergarten', 'primary_school', 'middle_school', 'community_health_center', 'elderly_care_complex',
              'public_parking'],
        fct_facility_coverage_monthly.facility_type::text
    )
