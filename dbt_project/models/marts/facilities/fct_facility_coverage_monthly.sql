{#-
    One row per district × facility type × report month: the livelihood
    facilities of the six types of the facility_standards seed (primary and
    middle schools, kindergartens, community health centres, street elderly
    care complexes, public car parks) — what is in service and its capacity
    against the district's residents and the per-1000 standard, the share of
    residents living within the type's service radius of one, what is
    planned, started and completed this year, and what was planned for an
    earlier year and has still not started (回头看).

    - Rows exist for the months whose register for the type was delivered
      (education.schools, health.clinics, civil_affairs.elderly_care,
      urban_mgmt.parking_lots), for every district of the city. A missing
      register leaves its types' rows out rather than reporting zeros.
    - Facilities are the register's rows as of month end, mapped to types by
      the facility_type_mapping seed (a 九年一贯制学校 counts as a primary
      and a middle school, with 6/9 and 3/9 of its places).
    - In service: status 已投用. Started this year: start_date from 1 January
      to the end of the report month. Completed this year: in service with
      open_date in that span. Planned this year: plan_year is the report
      month's year, any status. Carried over, not started: plan_year before
      the report month's year and status still 规划.
    - Residents: the Statistics Bureau's population and communities of the
      latest reference year up to the year before the report month's
      (the year-end figures published in March), else the latest
      available, each chosen separately.
    - Within radius: a community is served when an in-service facility of
      the type, anywhere in the city, lies within the type's service radius
      by great-circle distance (haversine, macros/great_circle.sql). To
      avoid comparing every community with every facility, both are placed
      on a grid of cells at least one radius wide and a community is only
      compared with facilities in its own and the 8 neighbouring cells —
      which holds every facility within the radius. Communities or
      facilities without coordinates are left out of the share.

    Incremental by month: month M reads the four registers of M and all of
    the yearly reference data (a correction of a population year rebuilds
    every month; it happens once a year).
-#}

{%- set month_inputs = [
    {'ref': 'stg_education__schools'},
    {'ref': 'stg_health__clinics'},
    {'ref': 'stg_civil_affairs__elderly_care'},
    {'ref': 'stg_urban_mgmt__parking_lots'},
    {'ref': 'stg_stats__population', 'all_months': true},
    {'ref': 'stg_stats__residential_communities', 'all_months': true},
] %}

{{ config(**incremental_by_month_config(month_inputs, index_columns=['district_code', 'facility_type'])) }}

with

dim_district as (

    select * from {{ ref('dim_district') }}

),

dim_facility_type as (

    select * from {{ ref('dim_facility_type') }}

),

facilities as (

    select * from {{ ref('int_facility_types_mapped') }}

),

registers as (

    select * from {{ ref('int_facilities_unioned') }}

),

facility_standards as (

    select * from {{ ref('facility_standards') }}

),

facility_type_mapping as (

    select * from {{ ref('facility_type_mapping') }}

),

districts as (

    select * from {{ ref('districts') }}

),

population as (

    select * from {{ ref('stg_stats__population') }}

),

communities as (

    select * from {{ ref('stg_stats__residential_communities') }}

),

month_fingerprints as (

    {{ month_input_fingerprints(month_inputs) }}

),

months_to_build as (

    {{ months_to_build('month_fingerprints') }}

),

-- Which facility types can be reported for which month: those whose
-- department's register was delivered.
registers_delivered as (

    select distinct
        report_month,
        source_dataset
    from registers

),

type_months as (

    select distinct
        registers_delivered.report_month,
        months_to_build.input_fingerprint,
        facility_type_mapping.facility_type
    from registers_delivered
    inner join facility_type_mapping
        on registers_delivered.source_dataset = facility_type_mapping.source_dataset
    {{ join_months_to_build('registers_delivered', month_inputs) }}
    where facility_type_mapping.facility_type is not null

),

type_months_with_standards as (

    select
        type_months.report_month,
        type_months.input_fingerprint,
        type_months.facility_type,
        extract(year from type_months.report_month)::integer as report_year,
        (type_months.report_month + interval '1 month' - interval '1 day')::date as report_month_end_date,
        facility_standards.service_radius_m,
        facility_standards.standard_per_1000,
        facility_standards.capacity_unit
    from type_months
    inner join facility_standards
        on type_months.facility_type = facility_standards.facility_type

),

grid as (

    select
        type_months_with_standards.*,
        districts.district_code
    from type_months_with_standards
    cross join districts

),

-- Reference years: the latest ≤ the report year − 1, else the latest.
report_years as (

    select distinct report_year
    from type_months_with_standards

),

reference_years_chosen as (

    select
        report_years.report_year,
        coalesce(
            (select max(population.reference_year) from population
                where population.reference_year <= report_years.report_year - 1),
            (select max(population.reference_year) from population)
        ) as population_reference_year,
        coalesce(
            (select max(communities.reference_year) from communities
                where communities.reference_year <= report_years.report_year - 1),
            (select max(communities.reference_year) from communities)
        ) as community_reference_year
    from report_years

),

district_population as (

    select
        reference_year,
        district_code,
        sum(residents) as resident_population
    from population
    group by reference_year, district_code

),

-- The facilities of the months being built, counted per district and type.
facilities_of_months as (

    select
        facilities.*,
        type_months_with_standards.report_year,
        type_months_with_standards.report_month_end_date,
        date_trunc('year', facilities.report_month)::date as report_year_start_date
    from facilities
    inner join type_months_with_standards
        on
            facilities.report_month = type_months_with_standards.report_month
            and facilities.facility_type = type_months_with_standards.facility_type
    where {{ months_to_build_literals('facilities.report_month', month_inputs) }}

),

facilities_counted as (

    select
        report_month,
        district_code,
        facility_type,
        count(*) filter (where status = '已投用') as facilities_in_service,
        coalesce(sum(capacity) filter (where status = '已投用'), 0) as capacity_in_service,
        count(*) filter (where plan_year = report_year) as planned_this_year,
        count(*) filter (
            where start_date between report_year_start_date and report_month_end_date
        ) as started_this_year,
        count(*) filter (
            where status = '已投用' and open_date between report_year_start_date and report_month_end_date
        ) as completed_this_year,
        count(*) filter (where plan_year < report_year and status = '规划') as carried_over_not_started,
        count(*) filter (where status = '在建') as facilities_under_construction
    from facilities_of_months
    group by report_month, district_code, facility_type

),

-- Service-radius coverage on a grid: cells are radius_m wide in latitude
-- and in longitude at the highest latitude of the city (plus one degree),
-- where a degree of longitude is shortest, so every cell is at least one
-- radius wide everywhere in the city. The points are the communities and
-- the facilities of the months being built: a grid wide enough for them is
-- all a month needs (the cells only choose which pairs are compared), and
-- other months' facilities are not read.
longitude_scale as (

    select cos(radians(least(89.0, max(abs(lat))::float8 + 1.0))) as shortest_longitude_degree_share
    from (
        select lat from communities
        union all
        select lat from facilities_of_months
    ) as points

),

cell_sizes as (

    select
        type_months_with_standards.report_month,
        type_months_with_standards.facility_type,
        type_months_with_standards.service_radius_m,
        type_months_with_standards.service_radius_m::float8 / {{ metres_per_degree() }} as cell_lat_degrees,
        type_months_with_standards.service_radius_m::float8
        / ({{ metres_per_degree() }} * longitude_scale.shortest_longitude_degree_share) as cell_lng_degrees,
        reference_years_chosen.community_reference_year
    from type_months_with_standards
    cross join longitude_scale
    inner join reference_years_chosen
        on type_months_with_standards.report_year = reference_years_chosen.report_year

),

-- The points a community can be served from: each in-service facility's
-- location once per month and type. Several facilities at one address (a
-- school's campuses, a province's registers stacked on the same city) answer
-- "is one within the radius" the same way, so the cost follows the distinct
-- locations, not the rows.
in_service_points as (

    select distinct
        report_month,
        facility_type,
        lat,
        lng
    from facilities_of_months
    where
        status = '已投用'
        and lat is not null
        and lng is not null

),

-- Materialized: computed once, so the planner joins on the cells rather
-- than comparing every pair of a month and type by distance. Each point is
-- listed in its own cell and the 8 around it, so a community finds every
-- point within the radius in its own cell.
facility_cells as materialized (

    select
        in_service_points.report_month,
        in_service_points.facility_type,
        in_service_points.lat,
        in_service_points.lng,
        floor(in_service_points.lat::float8 / cell_sizes.cell_lat_degrees)::bigint + neighbour_lat.step as cell_lat,
        floor(in_service_points.lng::float8 / cell_sizes.cell_lng_degrees)::bigint + neighbour_lng.step as cell_lng
    from in_service_points
    inner join cell_sizes
        on
            in_service_points.report_month = cell_sizes.report_month
            and in_service_points.facility_type = cell_sizes.facility_type
    cross join generate_series(-1, 1) as neighbour_lat (step)
    cross join generate_series(-1, 1) as neighbour_lng (step)

),

community_cells as materialized (

    select
        cell_sizes.report_month,
        cell_sizes.facility_type,
        cell_sizes.service_radius_m,
        communities.community_id,
        communities.district_code,
        coalesce(communities.residents, 0) as residents,
        communities.lat,
        communities.lng,
        floor(communities.lat::float8 / cell_sizes.cell_lat_degrees)::bigint as cell_lat,
        floor(communities.lng::float8 / cell_sizes.cell_lng_degrees)::bigint as cell_lng
    from cell_sizes
    inner join communities
        on cell_sizes.community_reference_year = communities.reference_year
    where
        communities.lat is not null
        and communities.lng is not null

),

-- A semi-join: a community is served once one point of its cell is within
-- the radius, so the search stops at the first (every pair was compared
-- before, and the served pairs deduplicated after). Distinct: a community
-- listed twice in a year is served when either listing is.
communities_served as (

    select distinct
        community_cells.report_month,
        community_cells.facility_type,
        community_cells.community_id
    from community_cells
    where exists (
        select
        from facility_cells
        where
            community_cells.report_month = facility_cells.report_month
            and community_cells.facility_type = facility_cells.facility_type
            and community_cells.cell_lat = facility_cells.cell_lat
            and community_cells.cell_lng = facility_cells.cell_lng
            and {{ great_circle_distance_m('community_cells.lat', 'community_cells.lng', 'facility_cells.lat', 'facility_cells.lng') }}
            <= community_cells.service_radius_m
    )

),

coverage_by_district as (

    select
        community_cells.report_month,
        community_cells.facility_type,
        community_cells.district_code,
        sum(community_cells.residents) as residents_in_communities,
        coalesce(
            sum(community_cells.residents) filter (where communities_served.community_id is not null), 0
        ) as residents_within_radius
    from community_cells
    left join communities_served
        on
            community_cells.report_month = communities_served.report_month
            and community_cells.facility_type = communities_served.facility_type
            and community_cells.community_id = communities_served.community_id
    group by community_cells.report_month, community_cells.facility_type, community_cells.district_code

),

coverage_measured as (

    select
        grid.report_month,
        grid.district_code,
        grid.facility_type,
        coalesce(facilities_counted.facilities_in_service, 0) as facilities_in_service,
        coalesce(facilities_counted.capacity_in_service, 0) as capacity_in_service,
        grid.capacity_unit,
        district_population.resident_population,
        grid.standard_per_1000,
        grid.service_radius_m,
        coverage_by_district.residents_in_communities,
        coverage_by_district.residents_within_radius,
        coalesce(facilities_counted.planned_this_year, 0) as planned_this_year,
        coalesce(facilities_counted.started_this_year, 0) as started_this_year,
        coalesce(facilities_counted.completed_this_year, 0) as completed_this_year,
        coalesce(facilities_counted.carried_over_not_started, 0) as carried_over_not_started,
        coalesce(facilities_counted.facilities_under_construction, 0) as facilities_under_construction,
        reference_years_chosen.population_reference_year,
        reference_years_chosen.community_reference_year,
        grid.input_fingerprint
    from grid
    left join facilities_counted
        on
            grid.report_month = facilities_counted.report_month
            and grid.district_code = facilities_counted.district_code
            and grid.facility_type = facilities_counted.facility_type
    left join reference_years_chosen
        on grid.report_year = reference_years_chosen.report_year
    left join district_population
        on
            reference_years_chosen.population_reference_year = district_population.reference_year
            and grid.district_code = district_population.district_code
    left join coverage_by_district
        on
            grid.report_month = coverage_by_district.report_month
            and grid.district_code = coverage_by_district.district_code
            and grid.facility_type = coverage_by_district.facility_type

),

standards_compared as (

    select
        *,
        {{ safe_divide('capacity_in_service * 1000', 'resident_population') }} as capacity_per_1000,
        trim_scale(standard_per_1000 * resident_population / 1000) as capacity_required,
        {{ safe_divide('residents_within_radius', 'residents_in_communities') }} as residents_within_radius_share
    from coverage_measured

),

labels_joined as (

    select
        standards_compared.*,
        dim_district.district_name,
        dim_facility_type.facility_type_name
    from standards_compared
    left join dim_district
        on standards_compared.district_code = dim_district.district_code
    left join dim_facility_type
        on standards_compared.facility_type = dim_facility_type.facility_type

),

final as (

    select
        report_month,
        district_code,
        district_name,
        facility_type,
        facility_type_name,
        facilities_in_service,
        capacity_in_service,
        capacity_unit,
        resident_population,
        capacity_per_1000,
        standard_per_1000,
        capacity_per_1000 >= standard_per_1000 as meets_standard,
        residents_within_radius_share,
        planned_this_year,
        started_this_year,
        completed_this_year,
        carried_over_not_started,
        capacity_required,
        service_radius_m,
        residents_in_communities,
        residents_within_radius,
        facilities_under_construction,
        population_reference_year,
        community_reference_year
    from labels_joined

)

{{ contract_typed_select('final') }}
