"""The demo city's simulated world: its major projects and how they evolve.

Every department's demo deliveries are views of this one world, so they agree
with each other the way real ones should: the DRC's 重大项目调度表 lists the
projects, the transport and water bureaux will report the same projects of
their sector, the finance bureau the special bonds that fund the
``is_bond_funded`` ones, and so on.

Each year the city publishes a list of about 200 major projects: those of
earlier lists not yet completed at the start of the year, and a cohort of new
ones planned to start during the year. A project is generated once, whole,
when its cohort is: its identity, its planned and actual schedule, the money
it spends each month and the spells when something blocks it. Its state in a
month is then a pure function of that lifecycle. Cohorts are seeded by
``(seed, year)`` alone and a project lives at most :data:`MAX_LIFETIME_YEARS`,
so the world in any month is the same whichever range of months is asked for.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from citydw import calendar as official_calendar
from citydw.city import City, District
from citydw.demo import names
from citydw.demo.names import Kind

STATUSES: tuple[str, ...] = ("储备", "新开工", "在建", "竣工")
MAX_LIFETIME_YEARS = 6
"""From the January a project is first listed to its completion, at most (by construction)."""

NEW_PROJECTS_PER_YEAR = 68
"""Size of a year's new cohort; with the projects carried over this makes a list of about 200."""
NAME_MEMORY_YEARS = 3
"""A project named like one of the last few cohorts' is its next phase (二期)."""

# Investment done in a month relative to an average month: the Spring Festival
# slows sites down, the year-end push (年底冲刺) speeds them up.
SEASON = {1: 0.8, 2: 0.5, 3: 0.95, 4: 1.05, 5: 1.1, 6: 1.15, 7: 0.95, 8: 0.95, 9: 1.1, 10: 1.0, 11: 1.1, 12: 1.3}
# Planned start months cluster in the spring 开工季 and the autumn.
PLANNED_START_WEIGHTS = (0.5, 0.5, 2.0, 2.0, 1.5, 1.5, 1.0, 0.8, 1.2, 1.0, 0.8, 0.5)
PRESTART_BLOCKER_WEIGHTS = {"要素保障": 25, "征地拆迁": 30, "行政审批": 20, "考古勘探": 8, "资金": 10, "其他": 7}
STALL_BLOCKER_WEIGHTS = {"资金": 35, "征地拆迁": 25, "要素保障": 15, "其他": 25}


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, second: date) -> int:
    """Whole months from ``first`` to ``second`` (negative when second is earlier)."""
    return (second.year - first.year) * 12 + second.month - first.month


def nth_working_day(month: date, n: int) -> date:
    """The official calendar's n-th working day of ``month`` (the pipeline's due dates use it too).

    For a year the calendar does not cover yet, plain weekdays: a demo of
    2030 should still generate, though the pipeline will refuse to date it.
    """
    try:
        return official_calendar.nth_working_day(month, n)
    except official_calendar.CalendarNotPublished:
        day, seen = month_start(month), 0
        while True:
            seen += day.weekday() < 5
            if seen == n and day.weekday() < 5:
                return day
            day += timedelta(days=1)


@dataclass(frozen=True)
class BlockerSpell:
    """A problem that holds a project up from ``first_month`` to ``last_month`` inclusive."""

    first_month: date
    last_month: date
    type: str
    note: str
    stalls_construction: bool = False

    def covers(self, month: date) -> bool:
        return self.first_month <= month <= self.last_month


@dataclass(frozen=True)
class Project:
    """A major project's identity and whole lifecycle, as generated with its cohort."""

    code: str
    name: str
    category: str
    sector: str  # which sector feed also reports it: transport, water, education, health …
    family: str  # wording of its 形象进度: road, building, factory, water, generic
    district_code: str
    responsible_unit: str
    is_bond_funded: bool
    total_investment: float  # 万元
    entry_year: int  # first year on the city's list
    planned_start_date: date  # planned dates are month-level: the 1st of the month
    planned_completion_date: date
    actual_start_date: date
    completion_month: date  # first month reported 竣工, and its last month of spending
    spending: tuple[int, ...]  # per month from the start month, in 0.01 万元
    blockers: tuple[BlockerSpell, ...]
    annual_plans: tuple[tuple[int, float], ...]  # (year, 万元)

    @property
    def start_month(self) -> date:
        return month_start(self.actual_start_date)

    @property
    def last_listed_year(self) -> int:
        return self.completion_month.year

    def is_listed(self, year: int) -> bool:
        """On the city's major-project list of ``year``: entered, and not completed before it."""
        return self.entry_year <= year <= self.last_listed_year

    def status(self, month: date) -> str:
        month = month_start(month)
        if month < self.start_month:
            return "储备"
        if month == self.start_month:
            return "新开工"
        if month < self.completion_month:
            return "在建"
        return "竣工"

    def spent_in(self, month: date) -> int:
        """Investment done in ``month``, in 0.01 万元."""
        offset = months_between(self.start_month, month_start(month))
        return self.spending[offset] if 0 <= offset < len(self.spending) else 0

    def spent_through(self, month: date) -> int:
        """Investment done from the start to ``month`` inclusive, in 0.01 万元."""
        offset = months_between(self.start_month, month_start(month))
        return sum(self.spending[: max(0, offset + 1)])

    def annual_plan(self, year: int) -> float:
        return dict(self.annual_plans).get(year, 0.0)

    def blocker(self, month: date) -> BlockerSpell | None:
        return next((spell for spell in self.blockers if spell.covers(month_start(month))), None)

    def state(self, month: date) -> ProjectMonth:
        """The project as its monthly report for ``month`` describes it."""
        month = month_start(month)
        status = self.status(month)
        spell = self.blocker(month)
        spent = self.spent_through(month)
        january = add_months(month, -(month.month - 1))
        before_year = self.spent_through(add_months(january, -1))
        return ProjectMonth(
            project=self,
            month=month,
            status=status,
            annual_plan_investment=self.annual_plan(month.year),
            month_investment=self.spent_in(month) / 100,
            ytd_investment=(spent - before_year) / 100,
            cumulative_investment=spent / 100,
            actual_start_date=self.actual_start_date if status != "储备" else None,
            blocker_type=spell.type if spell else None,
            blocker_note=spell.note if spell else None,
            progress_note=self._progress_note(month, status, spent, spell),
        )

    def _progress_note(self, month: date, status: str, spent: int, spell: BlockerSpell | None) -> str:
        if status == "储备":
            months_left = months_between(month, self.start_month)
            return next(note for threshold, note in names.PREPARATION_NOTES if months_left >= threshold)
        if status == "新开工":
            return names.START_NOTES[self.family]
        if status == "竣工":
            return names.COMPLETION_NOTES[self.family]
        done = spent / max(1, sum(self.spending))
        phase = next(note for share, note in names.PROGRESS_NOTES[self.family] if done < share)
        note = f"{phase}，累计完成总投资的{round(done * 100)}%"
        return f"{note}，{names.STALL_NOTE}" if spell and spell.stalls_construction else note


@dataclass(frozen=True)
class ProjectMonth:
    """A project's state as of a report month: what its row in a monthly report says."""

    project: Project
    month: date
    status: str
    annual_plan_investment: float  # 万元
    month_investment: float  # 万元
    ytd_investment: float  # 万元, January to ``month``
    cumulative_investment: float  # 万元, since the start
    actual_start_date: date | None
    blocker_type: str | None
    blocker_note: str | None
    progress_note: str

    @property
    def is_start_overdue(self) -> bool:
        return self.status == "储备" and self.project.planned_start_date < self.month


@dataclass(frozen=True)
class Delivery:
    """When a department's report for a month lands on the drop."""

    dataset: str
    month: date  # the report month
    due_date: date
    delivered_at: datetime  # aware, in the city's time zone

    @property
    def is_late(self) -> bool:
        return self.delivered_at.date() > self.due_date


class _Identity(NamedTuple):
    kind: Kind
    district: District
    words: dict[str, str]
    raw_name: str


_Part = TypeVar("_Part")


class World:
    """The demo city's projects, deterministic for a seed."""

    def __init__(self, city: City, seed: int | str = 2022, *, late_share: Mapping[str, float] | None = None):
        self.city = city
        self.seed = seed
        # Share of a dataset's months delivered after the due date; none yet.
        self.late_share = dict(late_share or {})
        self._cohorts: dict[int, tuple[Project, ...]] = {}
        self._identities: dict[int, tuple[_Identity, ...]] = {}
        self._parts: dict[Callable[..., Any], Any] = {}
        self._minor: World | None = None

    def part(self, make: Callable[[World], _Part]) -> _Part:
        """The world's ``make(world)`` (bonds, facilities, places …), built once and kept.

        The other departments' worlds hang off this one, so that they all see
        the same projects and, once built, cost nothing more.
        """
        if make not in self._parts:
            self._parts[make] = make(self)
        return self._parts[make]

    @property
    def minor(self) -> World:
        """A sibling world of projects below the city's list: a bureau's own smaller works.

        The transport and water bureaux report some of them beside the listed
        ones, and a bond may fund one (a project the DRC does not know). Its
        codes and names never clash with a listed project's; see
        :meth:`minor_projects`.
        """
        if self._minor is None:
            self._minor = World(self.city, f"{self.seed}:minor")
        return self._minor

    def minor_projects(self, year: int, sector: str) -> list[Project]:
        """The minor world's ``sector`` projects listed in ``year`` whose code and name no listed project has."""
        listed = self.projects_listed(year)
        codes, names_taken = {p.code for p in listed}, {p.name for p in listed}
        return [
            p
            for p in self.minor.projects_listed(year)
            if p.sector == sector and p.code not in codes and p.name not in names_taken
        ]

    def rng(self, *parts: object) -> random.Random:
        """A generator for one purpose (a cohort, a month's layout …), stable for the seed."""
        # String seeds are hashed with SHA-512 by random.Random: stable across
        # runs and platforms, unlike hash().
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    # -- projects -------------------------------------------------------------

    def projects_listed(self, year: int) -> list[Project]:
        """The city's major-project list of ``year``, in the order the DRC keeps it."""
        listed = [
            project
            for entry_year in range(year - MAX_LIFETIME_YEARS, year + 1)
            for project in self.cohort(entry_year)
            if project.is_listed(year)
        ]
        order = {category: i for i, category in enumerate(names.CATEGORIES)}
        return sorted(listed, key=lambda p: (order[p.category], p.entry_year, p.code))

    def snapshot(self, month: date) -> list[ProjectMonth]:
        """Every listed project's state as of ``month``."""
        month = month_start(month)
        return [project.state(month) for project in self.projects_listed(month.year)]

    def cohort(self, year: int) -> tuple[Project, ...]:
        """The projects first listed in ``year``."""
        if year not in self._cohorts:
            taken_codes: set[str] = set()
            self._cohorts[year] = tuple(
                self._new_project(self.rng("project", year, index), year, index, taken_codes)
                for index in range(len(self._identities_of(year)))
            )
        return self._cohorts[year]

    def _identities_of(self, year: int) -> tuple[_Identity, ...]:
        """Each new project's kind, district, place words and name before any 二期 suffix.

        Kept apart from the rest of a project so that a later cohort can see
        which names earlier ones took without generating them whole.
        """
        if year not in self._identities:
            size = round(NEW_PROJECTS_PER_YEAR * self.rng("cohort", year).uniform(0.9, 1.1))
            identities: list[_Identity] = []
            for index in range(size):
                rng = self.rng("identity", year, index)
                category = _weighted(rng, names.CATEGORY_WEIGHTS)
                kinds = [k for k in names.KINDS if k.category == category]
                kind = rng.choices(kinds, weights=[k.weight for k in kinds])[0]
                for _attempt in range(8):  # a name once per cohort
                    district = rng.choice(self.city.districts)
                    words = self._place_words(rng, year, kind, district)
                    identity = _Identity(kind, district, words, rng.choice(kind.names).format(**words))
                    if identity.raw_name not in {other.raw_name for other in identities}:
                        break
                identities.append(identity)
            self._identities[year] = tuple(identities)
        return self._identities[year]

    def _place_words(self, rng: random.Random, year: int, kind: Kind, district: District) -> dict[str, str]:
        code = district.code
        towns = names.TOWNS.get(code, names.GENERIC_TOWNS)
        town, town2 = rng.sample(towns, 2)
        brand = rng.choice(names.BRANDS)
        city_short = self.city.short_name
        words = {
            "city": self.city.name,
            "city_short": city_short,
            "district": district.name,
            "district_short": district.short_name or district.name,
            "town": town,
            "town2": town2,
            "road": rng.choice(names.ROADS.get(code, names.GENERIC_ROADS)),
            "area": rng.choice(names.AREAS.get(code, names.GENERIC_AREAS)),
            "water": rng.choice(names.WATERS.get(code, names.GENERIC_WATERS)),
            "zone": rng.choice(
                names.ZONES.get(code) or tuple(f"{district.short_name}{z}" for z in names.GENERIC_ZONES)
            ),
            "company": f"{brand}{kind.trade}",
            "company_full": f"{rng.choice((city_short, district.short_name or city_short))}{brand}{kind.trade}有限公司",
            "n": str(rng.randint(2, 30)),
            "n3": str(rng.choice((237, 244, 264, 333, 353, 611, 125, 231))),
            "gw": str(rng.choice((2, 5, 8, 10, 12, 20))),
            "kv": rng.choice(("110", "220")),
            "year": str(year),
        }
        for group, template in names.CITY_GROUPS.items():
            words[f"group_{group}"] = template.format(city=self.city.name, city_short=city_short)
        return words

    def _name_with_phase(self, year: int, index: int) -> str:
        """The project's name, with 二期/三期 when an earlier project already took it.

        Only the raw names of the last few cohorts, whose projects are mostly
        still on the list, are compared, so a name never depends on how far
        back the world goes.
        """
        name = self._identities_of(year)[index].raw_name
        earlier = sum(1 for item in self._identities_of(year)[:index] if item.raw_name == name)
        for previous_year in range(year - NAME_MEMORY_YEARS, year):
            earlier += sum(1 for item in self._identities_of(previous_year) if item.raw_name == name)
        if earlier == 0:
            return name
        phase = "二三四五六七八九十"[min(earlier - 1, 8)]
        return f"{name.removesuffix('项目').removesuffix('工程')}（{phase}期）"

    def _new_project(self, rng: random.Random, year: int, index: int, taken_codes: set[str]) -> Project:
        kind, district, words, _ = self._identities_of(year)[index]
        name = self._name_with_phase(year, index)
        responsible_unit = rng.choice(kind.units).format(**words)
        code = self._project_code(rng, year, district.code, kind, taken_codes)

        low, high = kind.investment
        total = _round_money(math.exp(rng.uniform(math.log(low), math.log(high))))
        is_bond_funded = rng.random() < kind.bond_share

        planned_start = date(year, _weighted_month(rng), 1)
        planned_months = rng.randint(*kind.months)
        planned_completion = add_months(planned_start, planned_months)
        delay = _start_delay(rng)
        start_month = add_months(planned_start, delay)
        actual_start = start_month.replace(day=rng.randint(1, 28))

        overrun = rng.choice((0, 0, 0, 1, 2, 3, 4, 6))
        stall_months = rng.randint(1, 4) if rng.random() < 0.15 else 0
        duration = planned_months + overrun + stall_months
        # A project ends within MAX_LIFETIME_YEARS of its first January on the list.
        latest_completion = date(year + MAX_LIFETIME_YEARS - 1, 12, 1)
        duration = min(duration, months_between(start_month, latest_completion) + 1)
        completion_month = add_months(start_month, duration - 1)

        blockers: list[BlockerSpell] = self._prestart_blockers(rng, year, planned_start, start_month, is_bond_funded)
        stall: BlockerSpell | None = None
        if stall_months and duration - stall_months >= 4:
            offset = rng.randint(2, duration - stall_months - 2)
            kind_of_problem = _weighted(rng, STALL_BLOCKER_WEIGHTS)
            first = add_months(start_month, offset)
            stall = BlockerSpell(
                first,
                add_months(first, stall_months - 1),
                kind_of_problem,
                _blocker_note(rng, kind_of_problem, is_bond_funded, stall=True),
                stalls_construction=True,
            )
            blockers.append(stall)

        spending = _spending_plan(rng, total, start_month, duration, stall)
        annual_plans = _annual_plans(
            rng, year, total, planned_start, planned_months, start_month, spending, completion_month.year
        )
        return Project(
            code=code,
            name=name,
            category=kind.category,
            sector=kind.sector,
            family=kind.family,
            district_code=district.code,
            responsible_unit=responsible_unit,
            is_bond_funded=is_bond_funded,
            total_investment=total,
            entry_year=year,
            planned_start_date=planned_start,
            planned_completion_date=planned_completion,
            actual_start_date=actual_start,
            completion_month=completion_month,
            spending=spending,
            blockers=tuple(blockers),
            annual_plans=annual_plans,
        )

    @staticmethod
    def _project_code(rng: random.Random, year: int, district_code: str, kind: Kind, taken: set[str]) -> str:
        """A GB/T 40058 code: 赋码 year, region, industry, approval type, serial.

        Codes are given the year before listing or the year of it. Serials of
        codes given in the listing year are drawn from 500000–999999, those
        given the year before from 100000–499999, so two cohorts that share a
        code year can never collide.
        """
        while True:
            given_before = rng.random() < 0.5
            serial = rng.randint(100_000, 499_999) if given_before else rng.randint(500_000, 999_999)
            code = f"{year - given_before}-{district_code}-{kind.industry}-{kind.approval}-{serial:06d}"
            if code not in taken:
                taken.add(code)
                return code

    @staticmethod
    def _prestart_blockers(
        rng: random.Random, year: int, planned_start: date, start_month: date, is_bond_funded: bool
    ) -> list[BlockerSpell]:
        """Problems that hold a project up before it starts; they clear by the start month."""
        first_listed = date(year, 1, 1)
        delay = months_between(planned_start, start_month)
        last = add_months(start_month, -1)
        if delay >= 1 and rng.random() < 0.85:
            first = max(first_listed, add_months(planned_start, -rng.randint(0, 2)))
        elif delay == 0 and rng.random() < 0.12:
            first = max(first_listed, add_months(start_month, -rng.randint(1, 2)))
        else:
            return []
        if first > last:
            return []
        spells = []
        span = months_between(first, last) + 1
        if span >= 6 and rng.random() < 0.5:  # one problem solved, the next one found
            middle = add_months(first, span // 2)
            kind_a = _weighted(rng, PRESTART_BLOCKER_WEIGHTS)
            spells.append(
                BlockerSpell(first, add_months(middle, -1), kind_a, _blocker_note(rng, kind_a, is_bond_funded))
            )
            first = middle
        kind_b = _weighted(rng, PRESTART_BLOCKER_WEIGHTS)
        spells.append(BlockerSpell(first, last, kind_b, _blocker_note(rng, kind_b, is_bond_funded)))
        return spells

    # -- deliveries -----------------------------------------------------------

    def delivery(self, dataset: str, month: date, due_working_day: int, *, late: bool = False) -> Delivery:
        """When ``dataset``'s report for ``month`` is delivered: a working day by the due date, office hours.

        ``late`` makes it one to eight working days late, as does a draw
        under ``late_share``. The lateness draw is taken whatever
        ``late_share`` says, so that giving a dataset late deliveries later
        does not move anything else.
        """
        month = month_start(month)
        rng = self.rng("delivery", dataset, month.isoformat())
        next_month = add_months(month, 1)
        due = nth_working_day(next_month, due_working_day)
        late_draw, late_days = rng.random(), rng.randint(1, 8)
        weights = [0.1, 0.2, 0.3, 0.25, 0.15][:due_working_day] or [1.0]
        day_index = rng.choices(range(1, len(weights) + 1), weights=weights)[0]
        if late or late_draw < self.late_share.get(dataset, 0.0):
            day_index = due_working_day + late_days
        day = nth_working_day(next_month, day_index)
        moment = time(rng.randint(9, 17), rng.randint(0, 59), rng.randint(0, 59))
        return Delivery(
            dataset=dataset,
            month=month,
            due_date=due,
            delivered_at=datetime.combine(day, moment, tzinfo=ZoneInfo(self.city.timezone)),
        )

    def yearly_delivery(self, dataset: str, year: int, due: tuple[int, int], *, late: bool = False) -> Delivery:
        """When yearly reference data on ``year`` arrives: a working day in the fortnight before ``due``
        (a (month, day) of the next year), office hours; a few working days after it when ``late``."""
        rng = self.rng("delivery", dataset, year)
        due_date = date(year + 1, *due)
        back, late_days = rng.randint(0, 14), rng.randint(1, 6)
        day = due_date + timedelta(days=late_days if late else -back)
        while not _is_working_day(day):
            day += timedelta(days=1) if late else -timedelta(days=1)
        moment = time(rng.randint(9, 17), rng.randint(0, 59), rng.randint(0, 59))
        return Delivery(
            dataset=dataset,
            month=date(year, 1, 1),
            due_date=due_date,
            delivered_at=datetime.combine(day, moment, tzinfo=ZoneInfo(self.city.timezone)),
        )


def _is_working_day(day: date) -> bool:
    try:
        return official_calendar.is_working_day(day)
    except official_calendar.CalendarNotPublished:
        return day.weekday() < 5


def _weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _weighted_month(rng: random.Random) -> int:
    return rng.choices(range(1, 13), weights=PLANNED_START_WEIGHTS)[0]


def _start_delay(rng: random.Random) -> int:
    """Months between the planned and the actual start: most on time, a fair share late."""
    draw = rng.random()
    if draw < 0.45:
        return 0
    if draw < 0.70:
        return rng.randint(1, 2)
    if draw < 0.85:
        return rng.randint(3, 5)
    return rng.randint(6, 15)


def _round_money(amount: float) -> float:
    """Amounts the way plans write them: to 100 万元, or 10 万元 for small ones."""
    step = 100 if amount >= 1_000 else 10
    return float(round(amount / step) * step)


def _blocker_note(rng: random.Random, kind: str, is_bond_funded: bool, *, stall: bool = False) -> str:
    if kind == "资金" and is_bond_funded and rng.random() < 0.4:
        return names.BOND_FUND_NOTE
    notes = names.STALL_NOTES if stall else names.BLOCKER_NOTES
    return rng.choice(notes[kind]).format(n=rng.randint(3, 60))


def _spending_plan(
    rng: random.Random, total: float, start_month: date, duration: int, stall: BlockerSpell | None
) -> tuple[int, ...]:
    """Monthly investment from the start month to completion, in 0.01 万元.

    A hump over the construction period, shaped by the season and some noise,
    next to nothing while stalled; it adds up exactly to 90–100 % of the
    total investment (the rest is land and fees outside the building works).
    """
    weights = []
    for offset in range(duration):
        month = add_months(start_month, offset)
        weight = (0.25 + math.sin(math.pi * (offset + 0.5) / duration)) * SEASON[month.month]
        weight *= rng.uniform(0.75, 1.25)
        if stall and stall.covers(month):
            weight *= rng.choice((0.0, 0.05, 0.1))
        weights.append(weight)
    budget = round(total * rng.uniform(0.9, 1.0) * 100)
    scale = budget / sum(weights)
    shares = [w * scale for w in weights]
    amounts = [math.floor(s) for s in shares]
    # Largest remainders take the leftover hundredths, so the sum is exact.
    leftovers = sorted(range(duration), key=lambda i: shares[i] - amounts[i], reverse=True)
    for i in leftovers[: budget - sum(amounts)]:
        amounts[i] += 1
    return tuple(amounts)


def _annual_plans(
    rng: random.Random,
    year: int,
    total: float,
    planned_start: date,
    planned_months: int,
    start_month: date,
    spending: tuple[int, ...],
    last_year: int,
) -> tuple[tuple[int, float], ...]:
    """Each listed year's plan, set in January from what was known then.

    A project already started is planned on its actual pace; one not started
    is planned as if it started when planned (or right away, if that is past).
    """
    plans = []
    for plan_year in range(year, last_year + 1):
        january = date(plan_year, 1, 1)
        if start_month < january:
            offsets = range(months_between(start_month, january), months_between(start_month, january) + 12)
            expected = sum(spending[i] for i in offsets if 0 <= i < len(spending)) / 100
        else:
            assumed_start = max(planned_start, january)
            months_in_year = min(12 - assumed_start.month + 1, planned_months)
            expected = total * 0.95 * months_in_year / planned_months
        plans.append((plan_year, _round_money(expected * rng.uniform(0.85, 1.2))))
    return tuple(plans)
