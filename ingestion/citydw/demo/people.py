"""Who lives where: residents per street and their residential communities, year by year.

The statistics bureau's reference data (stats.population and
stats.residential_communities) are two views of this one model, so they add
up: a street's residents are split exactly over its communities, and a
district's over its streets. The age bands are subsets of the residents in
plausible shares (an older population in the townships). The communities
are also where housing renovates old estates (:mod:`citydw.demo.programmes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from citydw.demo import names
from citydw.demo.places import Places
from citydw.demo.world import World

BASE_YEAR = 2021
"""The year :data:`citydw.demo.places.DISTRICT_AREAS` gives residents for."""
RESIDENTS_PER_COMMUNITY = 2800


@dataclass(frozen=True)
class StreetPopulation:
    district_code: str
    street: str
    residents: int
    residents_60_plus: int
    residents_3_5: int
    residents_6_11: int
    residents_12_14: int


@dataclass(frozen=True)
class Community:
    community_id: str  # 12 digits: the district, the street's number, the community's
    name: str
    district_code: str
    street: str
    lng: float
    lat: float
    weight: float  # its share of the street's residents
    built_year: int


def partition(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, exactly (largest remainders)."""
    shares = [total * w / sum(weights) for w in weights]
    parts = [math.floor(s) for s in shares]
    for i in sorted(range(len(parts)), key=lambda i: shares[i] - parts[i], reverse=True)[: total - sum(parts)]:
        parts[i] += 1
    return parts


class Population:
    def __init__(self, world: World):
        self.world = world
        self.places = world.part(Places.of)

    def district_residents(self, district_code: str, year: int) -> int:
        """Residents at the end of ``year``: the 2021 figure moved by each year's change."""
        residents = float(self.places.district(district_code).residents_2021)
        for later in range(BASE_YEAR + 1, year + 1):
            residents *= 1 + self._change(district_code, later)
        for earlier in range(year + 1, BASE_YEAR + 1):
            residents /= 1 + self._change(district_code, earlier)
        return round(residents)

    def _change(self, district_code: str, year: int) -> float:
        return self.world.rng("population", "change", district_code, year).uniform(-0.006, 0.010)

    def streets(self, year: int) -> list[StreetPopulation]:
        """Every street's residents and age bands at the end of ``year``, district by district."""
        result = []
        for code, place in self.places.districts.items():
            rng = self.world.rng("population", "streets", code, year)
            weights = [s.weight * rng.uniform(0.97, 1.03) for s in place.streets]
            for street, residents in zip(
                place.streets, partition(self.district_residents(code, year), weights), strict=True
            ):
                bands = self.world.rng("population", "bands", code, street.name)
                drift = self.world.rng("population", "drift", code, street.name, year)
                town = street.name.endswith("镇")
                old = bands.uniform(0.26, 0.33) if town else bands.uniform(0.20, 0.26)
                old += 0.004 * (year - BASE_YEAR)  # the population ages
                shares = (
                    old,
                    bands.uniform(0.022, 0.032),
                    bands.uniform(0.050, 0.065),
                    bands.uniform(0.026, 0.033),
                )
                counts = [round(residents * share * drift.uniform(0.98, 1.02)) for share in shares]
                result.append(StreetPopulation(code, street.name, residents, *counts))
        return result

    @cached_property
    def communities(self) -> tuple[Community, ...]:
        """The residential communities, fixed: the same estates every year, their residents change."""
        result = []
        for code, place in self.places.districts.items():
            taken: set[str] = set()
            for street_number, street in enumerate(place.streets, start=1):
                rng = self.world.rng("communities", code, street.name)
                count = max(
                    3,
                    round(
                        place.residents_2021
                        * street.weight
                        / sum(s.weight for s in place.streets)
                        / RESIDENTS_PER_COMMUNITY
                    ),
                )
                town = street.name.removesuffix("街道").removesuffix("镇")
                words = (
                    *names.ROADS.get(code, names.GENERIC_ROADS),
                    *names.AREAS.get(code, names.GENERIC_AREAS),
                    *names.SCHOOL_WORDS,
                    *names.BRANDS,
                    *names.VILLAGE_WORDS,
                    town,
                )
                for number in range(1, count + 1):
                    for _ in range(20):
                        name = f"{rng.choice(words)}{rng.choice(names.COMMUNITY_SUFFIXES)}"
                        if name not in taken:
                            break
                    else:
                        name = f"{town}{name}"
                    taken.add(name)
                    lng, lat = place.point_near(rng, street, spread_km=2.0)
                    result.append(
                        Community(
                            community_id=f"{code}{street_number:03d}{number:03d}",
                            name=name,
                            district_code=code,
                            street=street.name,
                            lng=lng,
                            lat=lat,
                            weight=rng.lognormvariate(0, 0.5),
                            built_year=rng.randint(1975, 2020),
                        )
                    )
        return tuple(result)

    def community_residents(self, year: int) -> list[tuple[Community, int]]:
        """Each community with its residents at the end of ``year``; a street's add up to its residents."""
        by_street: dict[tuple[str, str], list[Community]] = {}
        for community in self.communities:
            by_street.setdefault((community.district_code, community.street), []).append(community)
        result: list[tuple[Community, int]] = []
        for street in self.streets(year):
            members = by_street[(street.district_code, street.street)]
            rng = self.world.rng("communities", "year", street.district_code, street.street, year)
            weights = [c.weight * rng.uniform(0.95, 1.05) for c in members]
            result.extend(zip(members, partition(street.residents, weights), strict=True))
        return result
