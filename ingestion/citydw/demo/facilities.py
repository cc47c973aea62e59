"""The city's facility registers: schools, clinics, elderly care and public parking lots.

Each register is the department's whole list as of a month end: facilities
that have long been open, those being built, and those only planned. Three
sources feed it, so the departments agree with each other:

- the facilities open before :data:`BASE_YEAR`, spread over the districts
  in proportion to their residents;
- the new facilities of the world's major projects of the sector (a
  ``…小学新建工程`` on the DRC's list is a 小学 here, with the same project
  code until it is registered, and starts and opens when the project does);
- each year's smaller planned facilities that never reach the DRC's list,
  a fair share of which wait a long time to start (the 回头看 question:
  planned in 2021, still not started in 2022).

A facility is identified by its project code while planned or being built
and by its unified social credit code (GB 32100-2015, check character
computed) once it is registered, when it opens. Capacities are drawn from
the ranges in :data:`TYPES`; coordinates lie near the facility's street,
inside its district.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date

from stdnum.cn import uscc

from citydw.demo import names
from citydw.demo.places import Places
from citydw.demo.world import MAX_LIFETIME_YEARS, World, add_months

BASE_YEAR = 2018
"""Facilities open before this year form the base register; later ones come from projects and plans."""

STATUSES = ("规划", "在建", "已投用")

SCHOOLS, CLINICS, ELDERLY_CARE, PARKING = (
    "education.schools",
    "health.clinics",
    "civil_affairs.elderly_care",
    "urban_mgmt.parking_lots",
)


@dataclass(frozen=True)
class FacilityType:
    register: str
    name: str  # 小学, 社区卫生服务中心 … (parking lots: 停车场)
    capacity: tuple[int, int, int]  # low, high, step (a class of 45, a ward of 5 beds …)
    per_residents: int  # base register: one per this many residents (0: per street instead)
    build_months: tuple[int, int]


TYPES: dict[str, FacilityType] = {
    t.name: t
    for t in (
        FacilityType(SCHOOLS, "幼儿园", (180, 540, 30), 25_000, (10, 14)),
        FacilityType(SCHOOLS, "小学", (1080, 2700, 45), 40_000, (14, 20)),
        FacilityType(SCHOOLS, "初中", (1000, 2400, 50), 70_000, (14, 20)),
        FacilityType(SCHOOLS, "九年一贯制学校", (1350, 2700, 45), 300_000, (16, 24)),
        FacilityType(CLINICS, "社区卫生服务中心", (30, 100, 5), 0, (12, 18)),
        FacilityType(CLINICS, "乡镇卫生院", (30, 100, 5), 0, (12, 18)),
        FacilityType(CLINICS, "社区卫生服务站", (20, 30, 2), 200_000, (6, 10)),
        FacilityType(ELDERLY_CARE, "街道养老综合体", (60, 200, 10), 0, (10, 16)),
        FacilityType(ELDERLY_CARE, "日间照料中心", (30, 60, 5), 120_000, (6, 10)),
        FacilityType(ELDERLY_CARE, "养老院", (100, 300, 10), 0, (12, 20)),
        FacilityType(PARKING, "停车场", (50, 800, 10), 35_000, (6, 14)),
    )
}
# What a year's small planned facilities are, per register (type, weight), and how many a year.
PLANNED_MIX: dict[str, tuple[tuple[str, float], ...]] = {
    SCHOOLS: (("幼儿园", 4), ("小学", 1)),
    CLINICS: (("社区卫生服务站", 2), ("社区卫生服务中心", 1)),
    ELDERLY_CARE: (("日间照料中心", 3), ("街道养老综合体", 1)),
    PARKING: (("停车场", 1),),
}
# The years the base register's facilities opened in: schools go back decades, public parking lots do not.
BASE_OPENED: dict[str, tuple[int, int]] = {
    SCHOOLS: (1952, BASE_YEAR - 1),
    CLINICS: (1975, BASE_YEAR - 1),
    ELDERLY_CARE: (1990, BASE_YEAR - 1),
    PARKING: (1998, BASE_YEAR - 1),
}
PLANNED_PER_YEAR: dict[str, tuple[int, int]] = {SCHOOLS: (4, 7), CLINICS: (1, 3), ELDERLY_CARE: (2, 4), PARKING: (3, 6)}
LONG_WAIT_SHARE = 0.3
"""Share of the small planned facilities whose start slips by one and a half to three years."""

# The new facility a major project builds, by the words its name ends with.
PROJECT_FACILITIES: tuple[tuple[str, str, str], ...] = (
    # (sector, name ending, facility type)
    ("education", "九年一贯制学校新建工程", "九年一贯制学校"),
    ("education", "小学新建工程", "小学"),
    ("education", "幼儿园新建工程", "幼儿园"),
    ("health", "社区卫生服务中心新建工程", "社区卫生服务中心"),
    ("elderly_care", "街道养老服务综合体", "街道养老综合体"),
    ("elderly_care", "颐养中心建设工程", "养老院"),
    ("elderly_care", "日间照料中心", "日间照料中心"),
    ("parking", "公共停车场建设工程", "停车场"),
    ("parking", "智慧停车楼", "停车场"),
)
_PHASE = re.compile(r"（[二三四五六七八九十]期）$")


def _stem(name: str) -> str:
    """A project's name without its phase and its 工程/项目: what the facility is called after."""
    return _PHASE.sub("", name).removesuffix("项目").removesuffix("工程")


# Unified social credit code: registration authority and entity type by who runs the facility.
PUBLIC_INSTITUTION = "12"  # 机构编制 · 事业单位
PRIVATE_NON_ENTERPRISE = "52"  # 民政 · 民办非企业单位
_ORG_ALPHABET = "0123456789"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_code(rng: random.Random) -> str:
    """A GB 11714 organisation code: eight characters and its check character."""
    body = "".join(rng.choice(_ORG_ALPHABET) for _ in range(8))
    check = 11 - sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: random.Random, prefix: str, region: str) -> str:
    """A unified social credit code with a valid check character (GB 32100-2015)."""
    body = f"{prefix}{region}{organisation_code(rng)}"
    return body + uscc.calc_check_digit(body)


@dataclass(frozen=True)
class Facility:
    register: str
    type: str
    name: str
    district_code: str
    street: str
    lng: float
    lat: float
    capacity: int
    project_code: str  # its id until registered
    credit_code: str  # its id from registered_from on
    listed_from: date  # first month on the register
    plan_year: int | None
    start_date: date | None  # None: not started (or long ago, unknown)
    open_date: date | None
    inclusive: bool | None  # kindergartens: 普惠性
    registered_from: date  # the month its credit code replaces the project code

    def status(self, month: date) -> str:
        if self.open_date is not None and self.open_date.replace(day=1) <= month:
            return "已投用"
        if self.start_date is not None and self.start_date.replace(day=1) <= month:
            return "在建"
        return "规划"

    def facility_id(self, month: date) -> str:
        return self.credit_code if month >= self.registered_from else self.project_code

    def as_of(self, month: date) -> FacilityMonth:
        """What the register says about it at the end of ``month``: dates not yet reached are empty."""
        status = self.status(month)
        return FacilityMonth(
            facility=self,
            facility_id=self.facility_id(month),
            status=status,
            start_date=self.start_date if status != "规划" else None,
            open_date=self.open_date if status == "已投用" else None,
        )


@dataclass(frozen=True)
class FacilityMonth:
    facility: Facility
    facility_id: str
    status: str
    start_date: date | None
    open_date: date | None


class Facilities:
    """The four registers of a world."""

    def __init__(self, world: World):
        self.world = world
        self.places = world.part(Places.of)
        self._base: dict[str, tuple[Facility, ...]] = {}
        self._years: dict[int, tuple[Facility, ...]] = {}
        self._taken_names: set[tuple[str, str]] = set()

    def register(self, register: str, month: date) -> list[Facility]:
        """The facilities on ``register`` at the end of ``month``, in the department's order."""
        facilities = list(self.base(register))
        for year in range(BASE_YEAR, month.year + 1):
            facilities.extend(f for f in self.of_year(year) if f.register == register)
        listed = [f for f in facilities if f.listed_from <= month]
        codes = self.world.city.district_codes
        type_order = list(TYPES)
        return sorted(listed, key=lambda f: (codes.index(f.district_code), type_order.index(f.type), f.listed_from))

    # -- the base register -------------------------------------------------------

    def base(self, register: str) -> tuple[Facility, ...]:
        if register not in self._base:
            self._base[register] = tuple(self._make_base(register))
        return self._base[register]

    def _make_base(self, register: str) -> list[Facility]:
        rng = self.world.rng("facilities", "base", register)
        result = []
        for code, place in self.places.districts.items():
            for facility_type in (t for t in TYPES.values() if t.register == register):
                if facility_type.per_residents:
                    count = max(1, round(place.residents_2021 / facility_type.per_residents * rng.uniform(0.8, 1.2)))
                    streets = [self.places.pick_street(rng, code) for _ in range(count)]
                else:
                    wants_town = facility_type.name in ("乡镇卫生院", "养老院")
                    streets = [
                        s
                        for s in place.streets
                        if s.name.endswith("镇") == wants_town and rng.random() < (0.6 if wants_town else 0.8)
                    ]
                for street in streets:
                    opened = date(
                        rng.randint(*BASE_OPENED[register]), 9 if register == SCHOOLS else rng.randint(1, 12), 1
                    )
                    started = add_months(opened, -rng.randint(12, 24)) if opened.year >= 2010 else None
                    result.append(
                        self._facility(
                            rng,
                            register,
                            facility_type.name,
                            code,
                            street.name,
                            project_code="",
                            listed_from=date(1990, 1, 1),
                            plan_year=started.year if started else None,
                            start_date=started.replace(day=rng.randint(1, 28)) if started else None,
                            open_date=opened,
                        )
                    )
        return result

    # -- each year's new facilities --------------------------------------------------

    def of_year(self, year: int) -> tuple[Facility, ...]:
        """Facilities first listed in ``year``: the new ones of major projects, and small planned ones."""
        if year not in self._years:
            for earlier in range(BASE_YEAR, year):  # names are taken in order
                if earlier not in self._years:
                    self.of_year(earlier)
            for register in (SCHOOLS, CLINICS, ELDERLY_CARE, PARKING):
                self.base(register)
            self._years[year] = tuple(self._from_projects(year) + self._planned(year))
        return self._years[year]

    def _from_projects(self, year: int) -> list[Facility]:
        result = []
        for project in self.world.cohort(year):
            stem = _stem(project.name)
            kind = next(
                (
                    kind
                    for sector, ending, kind in PROJECT_FACILITIES
                    if project.sector == sector and stem.endswith(_stem(ending))
                ),
                None,
            )
            if kind is None:
                continue
            facility_type = TYPES[kind]
            phase = _PHASE.search(project.name)
            name = stem.removesuffix("新建").removesuffix("建设") + (phase.group(0) if phase else "")
            rng = self.world.rng("facilities", "project", project.code)
            street = self.places.pick_street(rng, project.district_code)
            opened = _opening(project.completion_month, facility_type.register, rng)
            result.append(
                self._facility(
                    rng,
                    facility_type.register,
                    facility_type.name,
                    project.district_code,
                    street.name,
                    project_code=project.code,
                    listed_from=date(year, 1, 1),
                    plan_year=year,
                    start_date=project.actual_start_date,
                    open_date=opened,
                    name=name,
                )
            )
        return result

    def _planned(self, year: int) -> list[Facility]:
        result = []
        listed_codes = {p.code for y in range(year - MAX_LIFETIME_YEARS, year + 2) for p in self.world.cohort(y)}
        for register, (low, high) in PLANNED_PER_YEAR.items():
            rng = self.world.rng("facilities", "planned", register, year)
            mix = PLANNED_MIX[register]
            for _ in range(rng.randint(low, high)):
                type_name = rng.choices([t for t, _ in mix], weights=[w for _, w in mix])[0]
                facility_type = TYPES[type_name]
                district = rng.choice(self.world.city.district_codes)
                street = self.places.pick_street(rng, district)
                planned_start = date(year, rng.randint(3, 10), 1)
                long_wait = rng.random() < LONG_WAIT_SHARE
                delay = rng.randint(18, 36) if long_wait else rng.choice((0, 0, 1, 2, 3, 5))
                start = add_months(planned_start, delay)
                completion = add_months(start, rng.randint(*facility_type.build_months))
                while True:
                    code = f"{year - rng.randint(0, 1)}-{district}-47-01-{rng.randint(100_000, 999_999):06d}"
                    if code not in listed_codes:
                        listed_codes.add(code)
                        break
                result.append(
                    self._facility(
                        rng,
                        register,
                        type_name,
                        district,
                        street.name,
                        project_code=code,
                        listed_from=date(year, 1, 1),
                        plan_year=year,
                        start_date=start.replace(day=rng.randint(1, 28)),
                        open_date=_opening(completion, register, rng),
                    )
                )
        return result

    # -- one facility ------------------------------------------------------------------

    def _facility(
        self,
        rng: random.Random,
        register: str,
        type_name: str,
        district_code: str,
        street: str,
        *,
        project_code: str,
        listed_from: date,
        plan_year: int | None,
        start_date: date | None,
        open_date: date | None,
        name: str | None = None,
    ) -> Facility:
        facility_type = TYPES[type_name]
        place = self.places.district(district_code)
        lng, lat = place.point_near(rng, place.street(street), spread_km=1.5)
        low, high, step = facility_type.capacity
        capacity = rng.randrange(low, high + 1, step)
        private = type_name in ("幼儿园", "日间照料中心", "养老院") and rng.random() < 0.3
        name = (
            self._unique_name(rng, register, name)
            if name
            else self._name(rng, type_name, district_code, street, private)
        )
        self._taken_names.add((register, name))
        prefix = PRIVATE_NON_ENTERPRISE if private else PUBLIC_INSTITUTION
        code = credit_code(rng, prefix, district_code)
        inclusive = (not private or rng.random() < 0.7) if type_name == "幼儿园" else None
        registered = open_date.replace(day=1) if open_date else date(9999, 12, 1)
        return Facility(
            register=register,
            type=type_name,
            name=name,
            district_code=district_code,
            street=street,
            lng=lng,
            lat=lat,
            capacity=capacity,
            project_code=project_code,
            credit_code=code,
            listed_from=listed_from,
            plan_year=plan_year,
            start_date=start_date,
            open_date=open_date,
            inclusive=inclusive,
            registered_from=registered,
        )

    def _name(self, rng: random.Random, type_name: str, district_code: str, street: str, private: bool) -> str:
        city = self.world.city
        district = self.places.district(district_code).district
        short = district.short_name or district.name
        town = street.removesuffix("街道").removesuffix("镇")
        road = rng.choice(names.ROADS.get(district_code, names.GENERIC_ROADS))
        area = rng.choice(names.AREAS.get(district_code, names.GENERIC_AREAS))
        word = rng.choice(names.SCHOOL_WORDS)
        options = {
            "幼儿园": (
                [f"{short}{rng.choice(names.PRIVATE_KINDERGARTEN_WORDS)}幼儿园"]
                if private
                else [
                    f"{city.short_name}市{word}幼儿园",
                    f"{street}中心幼儿园",
                    f"{short}{area}幼儿园",
                    f"{road}幼儿园",
                ]
            ),
            "小学": [f"{city.short_name}市{word}小学", f"{street}中心小学", f"{short}{area}小学", f"{road}小学"],
            "初中": [f"{city.short_name}市{word}中学", f"{town}初级中学", f"{short}{area}中学"],
            "九年一贯制学校": [f"{city.short_name}市{word}学校", f"{short}{area}学校"],
            "社区卫生服务中心": [f"{short}{street}社区卫生服务中心"],
            "乡镇卫生院": [f"{short}{town}卫生院"],
            "社区卫生服务站": [f"{short}{town}{rng.choice(names.VILLAGE_WORDS)}社区卫生服务站"],
            "街道养老综合体": [f"{short}{street}养老服务综合体"],
            "日间照料中心": [f"{short}{town}{rng.choice(names.VILLAGE_WORDS)}社区日间照料中心"],
            "养老院": [f"{short}{town}敬老院", f"{short}{town}颐养院"],
            "停车场": [
                f"{road}公共停车场",
                f"{area}公共停车场",
                f"{short}{town}{rng.choice(names.VILLAGE_WORDS)}停车场",
            ],
        }[type_name]
        register = TYPES[type_name].register
        for _ in range(10):
            name = rng.choice(options)
            if (register, name) not in self._taken_names:
                return name
        return self._unique_name(rng, register, name)

    def _unique_name(self, rng: random.Random, register: str, name: str) -> str:
        """``name``, or with a campus or branch in brackets when the register has it already."""
        unique = name
        while (register, unique) in self._taken_names:
            unique = f"{name}（{rng.choice(names.VILLAGE_WORDS)}{'校区' if register == SCHOOLS else '分部'}）"
        return unique


def _opening(completion_month: date, register: str, rng: random.Random) -> date:
    """When a finished facility opens: schools with the school year, others a month or two after."""
    if register == SCHOOLS:
        year = completion_month.year if completion_month.month <= 8 else completion_month.year + 1
        return date(year, 9, 1)
    opened = add_months(completion_month, rng.randint(1, 2))
    return opened.replace(day=rng.randint(1, 28))
