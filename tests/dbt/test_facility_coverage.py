"""fct_facility_coverage_monthly's service radius at its edges, against the haversine computed here.

The mart compares a community only with facilities in its own and the 8
neighbouring grid cells, each facility location once per month and type,
and stops at the first one within the radius. These cases are where that
could go wrong: a facility just inside and just outside the radius, a
community served from a neighbouring cell, many facilities at one address
(a province's registers stack on the same points), a facility in service
elsewhere than in its own district, and coordinates missing on either side.
"""

from __future__ import annotations

import math
from datetime import date

from citydw.transform import run_dbt

MONTH = date(2022, 3, 1)
REFERENCE = date(2021, 1, 1)
RADIUS_M = 500.0  # primary_school's service radius (seeds/facilities/facility_standards.csv)
METRES_PER_DEGREE = 111195.08  # macros/great_circle.sql


def haversine_m(lat_1: float, lng_1: float, lat_2: float, lng_2: float) -> float:
    phi_1, phi_2 = math.radians(lat_1), math.radians(lat_2)
    a = (
        math.sin((phi_2 - phi_1) / 2) ** 2
        + math.cos(phi_1) * math.cos(phi_2) * math.sin(math.radians(lng_2 - lng_1) / 2) ** 2
    )
    return 2 * 6371008.8 * math.asin(min(1.0, math.sqrt(a)))


def north_at(lat: float, lng: float, metres: float, *, inside: bool) -> float:
    """The latitude (6 decimals, as raw stores it) due north of a point nearest ``metres``, on the chosen side."""
    step = 1e-6
    candidate = round(lat + metres / METRES_PER_DEGREE, 6)
    while (haversine_m(lat, lng, candidate, lng) <= metres) != inside:
        candidate = round(candidate + (-step if inside else step), 6)
    return candidate


def school(facility_id: str, district: str, lat: float | None, lng: float | None, **values) -> dict:
    row = {
        "facility_id": facility_id,
        "name": f"{facility_id}小学",
        "type": "小学",
        "district": district,
        "street": "街道",
        "lng": lng,
        "lat": lat,
        "capacity": 100,
        "status": "已投用",
        "plan_year": 2019,
        "start_date": date(2019, 3, 1),
        "open_date": date(2020, 9, 1),
        "inclusive": None,
    }
    row.update(values)
    return row


def community(community_id: str, district: str, lat: float | None, lng: float | None, residents: int) -> dict:
    return {
        "community_id": community_id,
        "name": f"{community_id}小区",
        "district_code": district,
        "street": "城区街道",
        "lng": lng,
        "lat": lat,
        "residents": residents,
    }


def test_served_communities_match_the_haversine_at_the_radius_edges(raw_warehouse, warehouse_url, sample):
    cell = RADIUS_M / METRES_PER_DEGREE  # a cell's height in degrees of latitude
    # A community just south of a cell boundary, so a school 300 m north of it lies in the next cell.
    edge_lat = round((math.floor(32.40 / cell) + 1) * cell - 0.0005, 6)
    communities = [
        community("C-INSIDE", "321002", 32.3000, 119.4000, 1000),
        community("C-OUTSIDE", "321002", 32.3000, 119.5000, 2000),
        community("C-NEIGHBOUR", "321003", edge_lat, 119.3500, 4000),
        community("C-STACKED", "321003", 32.5000, 119.3000, 8000),
        community("C-FAR", "321012", 32.6000, 119.6000, 16000),
        community("C-NO-COORDINATES", "321012", None, None, 32000),
        community("C-BESIDE-A-PLACELESS-SCHOOL", "321084", 32.7000, 119.7000, 64000),
    ]
    neighbour_school_lat = round(edge_lat + 300 / METRES_PER_DEGREE, 6)
    schools = [
        school("S-INSIDE", "321002", north_at(32.3000, 119.4000, RADIUS_M, inside=True), 119.4000),
        school("S-OUTSIDE", "321002", north_at(32.3000, 119.5000, RADIUS_M, inside=False), 119.5000),
        # Serves a community of another district: coverage is by distance, not by district.
        school("S-NEIGHBOUR", "321012", neighbour_school_lat, 119.3500),
        *(school(f"S-STACKED-{copy:02d}", "321003", 32.5010, 119.3000) for copy in range(30)),
        school("S-NOT-IN-SERVICE", "321012", 32.6000, 119.6000, status="在建", open_date=None),
        school("S-NO-COORDINATES", "321084", None, None),
    ]
    assert math.floor(edge_lat / cell) != math.floor(neighbour_school_lat / cell)
    sample.load_delivery(raw_warehouse, "education.schools", MONTH, schools)
    sample.load_delivery(raw_warehouse, "stats.residential_communities", REFERENCE, communities)
    sample.load_delivery(
        raw_warehouse, "stats.population", REFERENCE, sample.sample_reference_data(2021)["stats.population"]
    )

    # The model's unit tests run in `make test` already; here the assertions below are the test.
    result = run_dbt(
        [
            "build",
            "--select",
            "+fct_facility_coverage_monthly",
            "--indirect-selection",
            "cautious",
            "--exclude",
            "test_type:unit",
        ],
        url=warehouse_url,
    )
    assert result.success, "\n".join(result.failures)

    in_service = [s for s in schools if s["status"] == "已投用" and s["lat"] is not None]
    served = {
        c["community_id"]
        for c in communities
        if c["lat"] is not None
        and any(haversine_m(c["lat"], c["lng"], s["lat"], s["lng"]) <= RADIUS_M for s in in_service)
    }
    assert served == {"C-INSIDE", "C-NEIGHBOUR", "C-STACKED"}  # the cases are what they say
    expected = {}
    for district in {c["district_code"] for c in communities}:
        placed = [c for c in communities if c["district_code"] == district and c["lat"] is not None]
        expected[district] = (
            sum(c["residents"] for c in placed) or None,
            sum(c["residents"] for c in placed if c["community_id"] in served) if placed else None,
        )
    rows = raw_warehouse.execute(
        "select district_code, residents_in_communities, residents_within_radius, facilities_in_service"
        " from marts.fct_facility_coverage_monthly where report_month = %s and facility_type = 'primary_school'",
        (MONTH,),
    ).fetchall()
    measured = {
        district: (within_communities, within_radius) for district, within_communities, within_radius, _ in rows
    }
    for district, figures in expected.items():
        assert measured[district] == figures, district
    in_service_by_district = {district: count for district, *_, count in rows}
    assert in_service_by_district["321003"] == 30  # every stacked school counts, though one location serves
    assert in_service_by_district["321084"] == 1  # a school without coordinates is in service, serves no one
