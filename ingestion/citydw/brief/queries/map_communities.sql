-- 一张图: residential communities (the reference year the coverage mart uses: the latest up to the year before)
-- and the facility types whose service radius none of the type's in-service facilities covers.
-- Distances are great-circle (haversine), as macros/great_circle.sql computes them for the coverage mart, so a
-- community drawn outside a type's radius is one the mart's residents_within_radius leaves out.
with reference_year as (
    select coalesce(
        (select max(reference_year) from marts.dim_community
            where reference_year <= extract(year from %(report_month)s::date) - 1),
        (select max(reference_year) from marts.dim_community)
    ) as reference_year
),

communities as (
    select community_id, community_name, district_code, lat::float8 as lat, lng::float8 as lng, residents
    from marts.dim_community
    where reference_year = (select reference_year from reference_year) and lat is not null and lng is not null
),

-- In service as the month's registers say, as the coverage mart counts it.
in_service as (
    select facility_type, lat::float8 as lat, lng::float8 as lng
    from marts.fct_facility_register_monthly
    where report_month = %(report_month)s and is_in_service and lat is not null and lng is not null
),

radius as (
    select facility_type, facility_type_name, service_radius_m from marts.dim_facility_type
),

served as (
    select distinct communities.community_id, radius.facility_type
    from communities
    cross join radius
    inner join in_service
        on in_service.facility_type = radius.facility_type
        and abs(in_service.lat - communities.lat) < radius.service_radius_m / 111195.08
        and 2 * 6371008.8 * asin(least(1.0, sqrt(
            power(sin(radians(in_service.lat - communities.lat) / 2), 2)
            + cos(radians(communities.lat)) * cos(radians(in_service.lat))
            * power(sin(radians(in_service.lng - communities.lng) / 2), 2)
        ))) <= radius.service_radius_m
)

select
    communities.community_name,
    communities.district_code,
    communities.lat,
    communities.lng,
    communities.residents,
    coalesce(
        array_agg(radius.facility_type_name order by radius.facility_type)
            filter (where served.community_id is null),
        array[]::text[]
    ) as types_outside_radius
from communities
cross join radius
left join served
    on communities.community_id = served.community_id and radius.facility_type = served.facility_type
group by communities.community_id, communities.community_name, communities.district_code, communities.lat,
    communities.lng, communities.residents
order by communities.community_id
