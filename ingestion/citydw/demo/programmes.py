"""The city's programmes that departments track month by month.

- spatial plans (nrp): the 三级三类 territorial plans, each moving
  未启动 → 编制中 → 报批中 → 已批复;
- renovation (housing): each year's list of old estates (老旧小区, picked
  from the residential communities built before 2000) and urban villages
  (城中村), 未开工 → 在建 → 完工;
- drainage compliance zones (housing): 未开工 → 在建 → 已达标, with the share
  of the work done;
- demolition and land expropriation (expropriation): per district and year,
  a target and the monthly progress towards it.

Every item is generated once with its whole timeline, so its state in a
month is a pure function of it and never depends on the months asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from citydw.demo import names
from citydw.demo.people import Population, partition
from citydw.demo.places import Places
from citydw.demo.world import SEASON, World, add_months

FIRST_YEAR = 2019
"""Programmes are generated from this year on (plans and zones listed earlier are carried in it)."""

PLAN_LEVELS = ("市级", "县级", "乡级")
PLAN_TYPES = ("总体规划", "详细规划", "相关专项规划")
PLAN_STATUSES = ("未启动", "编制中", "报批中", "已批复")
RENOVATION_STATUSES = ("未开工", "在建", "完工")
ZONE_STATUSES = ("未开工", "在建", "已达标")
OLD_ESTATE_BUILT_BEFORE = 2000

# Demolition targets in 万平方米 a year, by district code; others get the default.
DEMOLITION_TARGETS = {"321002": 28.0, "321003": 32.0, "321012": 22.0, "321023": 11.0, "321081": 14.0, "321084": 12.0}
DEFAULT_DEMOLITION_TARGET = 12.0


def _month_in(month: date, first: date | None) -> bool:
    return first is not None and first <= month


# -- spatial plans -------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    level: str
    type: str
    district_code: str | None  # None for a plan of the whole city
    start_month: date
    submit_month: date
    approval_date: date
    planned_approval_date: date  # month-level: the 1st

    def status(self, month: date) -> str:
        if month < self.start_month:
            return "未启动"
        if month < self.submit_month:
            return "编制中"
        if month < self.approval_date.replace(day=1):
            return "报批中"
        return "已批复"


class SpatialPlans:
    def __init__(self, world: World):
        self.world = world
        self.places = world.part(Places.of)

    @cached_property
    def plans(self) -> tuple[Plan, ...]:
        rng = self.world.rng("plans")
        city = self.world.city
        serials: dict[tuple[str, str], int] = {}
        plans: list[Plan] = []

        def add(name: str, level: str, plan_type: str, district: str | None, start_years: tuple[int, int]) -> None:
            region = district or city.code
            type_code = {"总体规划": "ZT", "详细规划": "XX", "相关专项规划": "ZX"}[plan_type]
            serials[(region, type_code)] = serials.get((region, type_code), 0) + 1
            start = date(rng.randint(*start_years), rng.randint(1, 12), 1)
            drafting = rng.randint(8, 24)
            planned = add_months(start, rng.randint(8, 18))
            submit = add_months(start, drafting)
            approval = add_months(submit, rng.randint(3, 14)).replace(day=rng.randint(1, 28))
            plans.append(
                Plan(
                    code=f"GH{region}-{type_code}-{serials[(region, type_code)]:03d}",
                    name=name,
                    level=level,
                    type=plan_type,
                    district_code=district,
                    start_month=start,
                    submit_month=submit,
                    approval_date=approval,
                    planned_approval_date=planned,
                )
            )

        add(f"{city.name}国土空间总体规划（2021—2035年）", "市级", "总体规划", None, (2019, 2019))
        for special in names.CITY_SPECIAL_PLANS:
            add(f"{city.name}{special}", "市级", "相关专项规划", None, (2020, 2023))
        for code, place in self.places.districts.items():
            district = place.district
            short = district.short_name or district.name
            core = district.name.endswith("区") and code[-2:] < "10"
            add(f"{district.name}国土空间总体规划（2021—2035年）", "县级", "总体规划", code, (2019, 2021))
            for special in rng.sample(names.COUNTY_SPECIAL_PLANS, 2):
                add(f"{district.name}{special}", "县级", "相关专项规划", code, (2020, 2023))
            for area in rng.sample(names.AREAS.get(code, names.GENERIC_AREAS), 2):
                level = "市级" if core else "县级"
                add(f"{short}{area}单元控制性详细规划", level, "详细规划", code, (2020, 2023))
            for street in place.streets:
                if not street.name.endswith("镇"):
                    continue
                add(f"{short}{street.name}国土空间总体规划（2021—2035年）", "乡级", "总体规划", code, (2020, 2022))
                if rng.random() < 0.5:
                    village = rng.choice(names.VILLAGE_WORDS)
                    add(f"{short}{street.name}{village}村村庄规划", "乡级", "详细规划", code, (2020, 2023))
        return tuple(plans)


# -- renovation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Renovation:
    project_id: str
    community_name: str
    type: str  # 老旧小区 / 城中村
    district_code: str
    street: str
    households: int
    floor_area: float  # 万平方米
    plan_year: int
    start_date: date
    completion_date: date
    investment: float  # 万元

    def status(self, month: date) -> str:
        if month < self.start_date.replace(day=1):
            return "未开工"
        if month < self.completion_date.replace(day=1):
            return "在建"
        return "完工"

    def is_listed(self, month: date) -> bool:
        """On the year's list: planned for the year, or from an earlier year and not done before it."""
        january = date(month.year, 1, 1)
        return self.plan_year == month.year or (
            self.plan_year < month.year and self.completion_date.replace(day=1) >= january
        )


class Renovations:
    def __init__(self, world: World):
        self.world = world
        self.places = world.part(Places.of)
        self.population = world.part(Population)
        self._years: dict[int, tuple[Renovation, ...]] = {}

    def of_year(self, year: int) -> tuple[Renovation, ...]:
        """The renovations planned for ``year``; estates renovated in earlier years are not picked again."""
        if year not in self._years:
            taken = {r.community_name for y in range(FIRST_YEAR, year) for r in self.of_year(y)}
            self._years[year] = tuple(self._plan(year, taken))
        return self._years[year]

    def listed(self, month: date) -> list[Renovation]:
        candidates = [r for y in range(FIRST_YEAR, month.year + 1) for r in self.of_year(y)]
        codes = self.world.city.district_codes
        return sorted(
            (r for r in candidates if r.is_listed(month)),
            key=lambda r: (r.plan_year, codes.index(r.district_code), r.project_id),
        )

    def _plan(self, year: int, taken: set[str]) -> list[Renovation]:
        rng = self.world.rng("renovation", year)
        residents = {c.community_id: n for c, n in self.population.community_residents(year - 1)}
        old = [c for c in self.population.communities if c.built_year < OLD_ESTATE_BUILT_BEFORE and c.name not in taken]
        picks = rng.sample(old, min(len(old), rng.randint(20, 35)))
        result: list[Renovation] = []
        serials: dict[str, int] = {}

        def project_id(district: str) -> str:
            serials[district] = serials.get(district, 0) + 1
            return f"GZ{year}{district}{serials[district]:03d}"

        for community in sorted(picks, key=lambda c: c.community_id):
            households = max(120, round(residents[community.community_id] / rng.uniform(2.4, 3.0)))
            floor_area = round(households * rng.uniform(65, 90) / 10_000, 2)
            start = date(year, rng.randint(3, 9), rng.randint(1, 28))
            if rng.random() < 0.15:
                start = add_months(start, rng.randint(4, 10))
            completion = add_months(start, rng.randint(4, 10)).replace(day=rng.randint(1, 28))
            result.append(
                Renovation(
                    project_id=project_id(community.district_code),
                    community_name=community.name,
                    type="老旧小区",
                    district_code=community.district_code,
                    street=community.street,
                    households=households,
                    floor_area=floor_area,
                    plan_year=year,
                    start_date=start,
                    completion_date=completion,
                    investment=round(floor_area * rng.uniform(350, 650), 2),
                )
            )
        for _ in range(rng.randint(2, 5)):
            district = rng.choice(self.world.city.district_codes)
            street = self.places.pick_street(rng, district)
            village = f"{street.name.removesuffix('街道').removesuffix('镇')}{rng.choice(names.VILLAGE_WORDS)}村"
            households = rng.randint(200, 900)
            floor_area = round(households * rng.uniform(120, 180) / 10_000, 2)
            start = date(year, rng.randint(2, 10), rng.randint(1, 28))
            completion = add_months(start, rng.randint(18, 36)).replace(day=rng.randint(1, 28))
            result.append(
                Renovation(
                    project_id=project_id(district),
                    community_name=village,
                    type="城中村",
                    district_code=district,
                    street=street.name,
                    households=households,
                    floor_area=floor_area,
                    plan_year=year,
                    start_date=start,
                    completion_date=completion,
                    investment=round(floor_area * rng.uniform(2500, 4000), 2),
                )
            )
        return result


# -- drainage compliance zones ---------------------------------------------------------------


@dataclass(frozen=True)
class DrainageZone:
    zone_code: str
    zone_name: str
    district_code: str
    area_km2: float
    plan_year: int
    listed_from: date
    start_month: date
    completion_month: date

    def completion_pct(self, month: date) -> float:
        """Share of the work done by the end of ``month``, in %, one decimal; 100 from the completion month."""
        if month < self.start_month:
            return 0.0
        if month >= self.completion_month:
            return 100.0
        done = month.year * 12 + month.month - self.start_month.year * 12 - self.start_month.month + 1
        total = (
            self.completion_month.year * 12
            + self.completion_month.month
            - self.start_month.year * 12
            - self.start_month.month
            + 1
        )
        return min(99.0, round(100 * math.sin(math.pi / 2 * done / total), 1))

    def status(self, month: date) -> str:
        if month < self.start_month:
            return "未开工"
        return "已达标" if month >= self.completion_month else "在建"


class DrainageZones:
    def __init__(self, world: World):
        self.world = world
        self.places = world.part(Places.of)

    @cached_property
    def zones(self) -> tuple[DrainageZone, ...]:
        result = []
        for code, place in self.places.districts.items():
            rng = self.world.rng("drainage", code)
            district = place.district
            short = district.short_name or district.name
            words = [*names.AREAS.get(code, names.GENERIC_AREAS), *names.ROADS.get(code, names.GENERIC_ROADS)]
            words += [s.name.removesuffix("街道").removesuffix("镇") for s in place.streets]
            picked = rng.sample(words, min(len(words), rng.randint(6, 14)))
            for serial, word in enumerate(picked, start=1):
                plan_year = rng.randint(FIRST_YEAR, 2025)
                start = date(plan_year - rng.randint(0, 1), rng.randint(1, 9), 1)
                completion = add_months(start, rng.randint(10, 24))
                result.append(
                    DrainageZone(
                        zone_code=f"PS{code}{serial:03d}",
                        zone_name=f"{short}{word}片区排水达标区",
                        district_code=code,
                        area_km2=round(rng.uniform(0.4, 6.0), 2),
                        plan_year=plan_year,
                        listed_from=date(min(plan_year - 2, start.year), 1, 1),
                        start_month=start,
                        completion_month=completion,
                    )
                )
        return tuple(result)

    def listed(self, month: date) -> list[DrainageZone]:
        return [z for z in self.zones if z.listed_from <= month]


# -- demolition ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemolitionYear:
    """One district's year: the target and the monthly figures (0.01 万平方米, households, 0.01 亩)."""

    district_code: str
    year: int
    annual_target: float  # 万平方米
    demolished: tuple[int, ...]  # per month, 0.01 万平方米
    households: tuple[int, ...]
    land: tuple[int, ...]  # per month, 0.01 亩

    def ytd(self, series: tuple[int, ...], month: date) -> int:
        return sum(series[: month.month])


class Demolition:
    def __init__(self, world: World):
        self.world = world
        self._years: dict[tuple[str, int], DemolitionYear] = {}

    def year(self, district_code: str, year: int) -> DemolitionYear:
        key = (district_code, year)
        if key not in self._years:
            rng = self.world.rng("demolition", district_code, year)
            target = round(DEMOLITION_TARGETS.get(district_code, DEFAULT_DEMOLITION_TARGET) * rng.uniform(0.8, 1.25), 1)
            done = round(target * rng.uniform(0.85, 1.12) * 100)
            weights = [SEASON[m] * rng.uniform(0.3, 1.7) for m in range(1, 13)]
            demolished = partition(done, weights)
            households = [round(d / 100 * 10_000 / rng.uniform(90, 130)) for d in demolished]
            land_total = round(rng.uniform(300, 1500) * 100)
            land = partition(land_total, [SEASON[m] * rng.uniform(0.2, 1.8) for m in range(1, 13)])
            self._years[key] = DemolitionYear(
                district_code, year, target, tuple(demolished), tuple(households), tuple(land)
            )
        return self._years[key]
