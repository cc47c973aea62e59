"""Where things are in the demo city: district areas, streets, and points inside them.

Each district is modelled as a disc (a centre and a radius, in km) around
its built-up area, small enough that no two discs overlap, so "inside its
district" is a simple distance test that the tests can repeat. Streets
(街道/镇) come from :data:`citydw.demo.names.TOWNS`, each with a centre inside
its district and a share of the district's residents; facilities, parking
lots, residential communities and renovation projects are placed around
them, so every department puts a place in the same street of the same
district.

The discs are flavour, like the names: Yangzhou's are listed here, and a
city configured differently gets discs on a ring around
:data:`FALLBACK_CENTRE`, so the generator still works there.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from citydw.city import City, District
from citydw.demo import names

if TYPE_CHECKING:
    from citydw.demo.world import World

KM_PER_DEGREE_LAT = 111.32

# District code → (lng, lat) of the centre, radius in km, residents around 2021.
DISTRICT_AREAS: dict[str, tuple[float, float, float, int]] = {
    "321002": (119.485, 32.395, 4.0, 620_000),  # 广陵区
    "321003": (119.385, 32.405, 5.0, 700_000),  # 邗江区
    "321012": (119.575, 32.435, 5.0, 910_000),  # 江都区
    "321023": (119.310, 33.235, 8.0, 720_000),  # 宝应县
    "321081": (119.185, 32.275, 7.0, 520_000),  # 仪征市
    "321084": (119.455, 32.785, 8.0, 700_000),  # 高邮市
}
FALLBACK_CENTRE = (119.4, 32.4)
FALLBACK_RING_KM = 30.0
FALLBACK_RADIUS_KM = 5.0
FALLBACK_RESIDENTS = 500_000


@dataclass(frozen=True)
class Area:
    """A disc on the map: centre (WGS-84 degrees) and radius in km."""

    lng: float
    lat: float
    radius_km: float

    def contains(self, lng: float, lat: float) -> bool:
        return distance_km(self.lng, self.lat, lng, lat) <= self.radius_km + 1e-9

    def point(self, rng: random.Random, within: float = 1.0) -> tuple[float, float]:
        """A uniformly random point at most ``within`` × the radius from the centre, 6 decimals."""
        distance = self.radius_km * within * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        return offset(self.lng, self.lat, distance * math.cos(angle), distance * math.sin(angle))


@dataclass(frozen=True)
class Street:
    """A 街道 or 镇 of a district: its name, centre and share of the district's residents."""

    district_code: str
    name: str  # with its suffix: 湾头街道, 邵伯镇
    lng: float
    lat: float
    weight: float


@dataclass(frozen=True)
class DistrictPlace:
    district: District
    area: Area
    residents_2021: int
    streets: tuple[Street, ...]

    def street(self, name: str) -> Street:
        return next(s for s in self.streets if s.name == name)

    def point_near(self, rng: random.Random, street: Street, spread_km: float) -> tuple[float, float]:
        """A point within ``spread_km`` of the street's centre and inside the district."""
        for _ in range(50):
            distance = spread_km * math.sqrt(rng.random())
            angle = rng.uniform(0, 2 * math.pi)
            lng, lat = offset(street.lng, street.lat, distance * math.cos(angle), distance * math.sin(angle))
            if self.area.contains(lng, lat):
                return lng, lat
        return street.lng, street.lat


def distance_km(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Equirectangular distance; exact enough over a few tens of km."""
    mean_lat = math.radians((lat1 + lat2) / 2)
    dx = (lng2 - lng1) * KM_PER_DEGREE_LAT * math.cos(mean_lat)
    dy = (lat2 - lat1) * KM_PER_DEGREE_LAT
    return math.hypot(dx, dy)


def offset(lng: float, lat: float, east_km: float, north_km: float) -> tuple[float, float]:
    new_lat = lat + north_km / KM_PER_DEGREE_LAT
    new_lng = lng + east_km / (KM_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return round(new_lng, 6), round(new_lat, 6)


class Places:
    """The demo city's districts and streets, fixed for a seed."""

    @classmethod
    def of(cls, world: World) -> Places:
        return cls(world.city, world.seed)

    def __init__(self, city: City, seed: object):
        self.city = city
        self.districts: dict[str, DistrictPlace] = {}
        for index, district in enumerate(city.districts):
            self.districts[district.code] = self._district(district, index, len(city.districts), seed)

    def _district(self, district: District, index: int, count: int, seed: object) -> DistrictPlace:
        known = DISTRICT_AREAS.get(district.code)
        if known:
            lng, lat, radius, residents = known
        else:
            angle = 2 * math.pi * index / max(count, 1)
            lng, lat = offset(*FALLBACK_CENTRE, FALLBACK_RING_KM * math.cos(angle), FALLBACK_RING_KM * math.sin(angle))
            radius, residents = FALLBACK_RADIUS_KM, FALLBACK_RESIDENTS
        area = Area(lng, lat, radius)
        rng = random.Random(f"{seed}:streets:{district.code}")
        towns = names.TOWNS.get(district.code, names.GENERIC_TOWNS)
        # Urban districts are all 街道; counties have a 街道 or two in the county town and 镇 elsewhere.
        # (GB/T 2260: a city's core districts are numbered 01–09, counties and county-level cities above.)
        core = district.name.endswith("区") and district.code[-2:] < "10"
        streets = []
        for position, town in enumerate(towns):
            suffix = "街道" if core or position == 0 else "镇"
            s_lng, s_lat = area.point(rng, within=0.7 if position else 0.25)
            weight = (3.0 if position == 0 else 1.0) * rng.uniform(0.6, 1.4)
            streets.append(Street(district.code, f"{town}{suffix}", s_lng, s_lat, weight))
        return DistrictPlace(district, area, residents, tuple(streets))

    def district(self, code: str) -> DistrictPlace:
        return self.districts[code]

    def area_of(self, code: str) -> Area:
        return self.districts[code].area

    def bounds(self) -> tuple[float, float, float, float]:
        """(min lng, min lat, max lng, max lat) of all the districts' discs."""
        corners = []
        for place in self.districts.values():
            a = place.area
            corners.append(offset(a.lng, a.lat, -a.radius_km, -a.radius_km))
            corners.append(offset(a.lng, a.lat, a.radius_km, a.radius_km))
        return (
            min(c[0] for c in corners),
            min(c[1] for c in corners),
            max(c[0] for c in corners),
            max(c[1] for c in corners),
        )

    def district_of_point(self, lng: float, lat: float) -> str | None:
        return next((code for code, p in self.districts.items() if p.area.contains(lng, lat)), None)

    def street_named(self, district_code: str, name: str) -> Street:
        return self.districts[district_code].street(name)

    def pick_street(self, rng: random.Random, district_code: str) -> Street:
        streets = self.districts[district_code].streets
        return rng.choices(streets, weights=[s.weight for s in streets])[0]
