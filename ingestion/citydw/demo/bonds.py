"""Special-purpose bonds (专项债券): the province's tranches, the city's allocations, its neighbours.

Each year the province issues 新增专项债券 in tranches, front-loaded into
the first half (and a 再融资 bond that repays older debt). The city's share
of a tranche is allocated to the bond-funded projects of its major-project
list (``Project.is_bond_funded``) that are ready for it: started, or about to
start. Money is then spent as the project builds, month by month, never more
than allocated; an allocation to a project that has not started, or that
stalls, sits idle.

The province's bulletin (全省新增专项债券发行使用情况通报) lists the 13
prefecture cities: the city's own row is the sum of its allocations, the
others follow the same tranches with their own size and pace. Last year's
figures (上年同期) come from the same model one year earlier, so they agree
with last year's bulletins.

A few allocations each year can be moved to a project the DRC does not list
(:attr:`Allocation.unlisted`): a real bureau funds a smaller project of its
own, and the warehouse's cross-check must notice. Which allocations is drawn
whatever the defect rate, so turning defects on changes nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from citydw.demo.world import Project, World, add_months, months_between

NEW = "新增专项债券"
REFINANCING = "再融资专项债券"

PROVINCE_ABBREVIATIONS = {"320000": "JS", "330000": "ZJ", "340000": "AH", "370000": "SD", "410000": "HA"}

# 投向领域 of a project's sector, in the wording of the special-bond programme.
BOND_SECTORS: dict[str, str] = {
    "transport": "交通基础设施",
    "education": "社会事业",
    "health": "社会事业",
    "elderly_care": "社会事业",
    "sports": "社会事业",
    "water": "农林水利",
    "agriculture": "农林水利",
    "ecology": "生态环保",
    "drainage": "生态环保",
    "housing": "保障性安居工程",
}
DEFAULT_BOND_SECTOR = "市政和产业园区基础设施"

# Each prefecture city's new special-bond issuance in a year, 亿元, around 2021; by city code.
CITY_ISSUANCE: dict[str, float] = {
    "320100": 310.0,
    "320200": 205.0,
    "320300": 185.0,
    "320400": 135.0,
    "320500": 330.0,
    "320600": 210.0,
    "320700": 115.0,
    "320800": 125.0,
    "320900": 150.0,
    "321100": 105.0,
    "321200": 125.0,
    "321300": 105.0,
}
DEFAULT_CITY_ISSUANCE = 120.0

TRANCHE_MONTH_WEIGHTS = (0, 3, 3, 3, 3, 3, 2, 1, 1, 1, 1, 0.5)  # February to December; January always has one
TERMS_AND_RATES = ((7, 2.55, 2.95), (10, 2.75, 3.15), (15, 3.05, 3.40), (20, 3.15, 3.50), (30, 3.25, 3.60))
UNLISTED_SLOTS = (2, 3)
"""How many allocations a year may go to a project the DRC does not list (at defect rate 1)."""

_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 15 → 十五, 23 → 二十三 (issue numbers of bonds, up to 99)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    text = ("" if tens == 1 else _CN_DIGITS[tens]) + "十"
    return text + (_CN_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class Bond:
    code: str  # 2022-JS-ZX-015
    name: str  # 2022年江苏省政府专项债券（十五期）
    type: str  # NEW or REFINANCING
    issue_date: date
    term_years: int
    coupon_rate: float  # %

    @property
    def issue_month(self) -> date:
        return self.issue_date.replace(day=1)


@dataclass(frozen=True)
class Recipient:
    code: str
    name: str
    district_code: str
    sector: str  # 投向领域


@dataclass(frozen=True)
class Allocation:
    """One bond's money for one project: the amount and how it is spent month by month (0.01 万元)."""

    bond: Bond
    recipient: Recipient
    allocated: int
    spending: tuple[int, ...]  # per month from the issue month
    unlisted: Recipient | None = None  # the project it goes to when defects are on (the DRC does not list it)

    def spent_in(self, month: date) -> int:
        offset = months_between(self.bond.issue_month, month)
        return self.spending[offset] if 0 <= offset < len(self.spending) else 0

    def spent_through(self, month: date) -> int:
        offset = months_between(self.bond.issue_month, month)
        return sum(self.spending[: max(0, offset + 1)])

    def is_issued_by(self, month: date) -> bool:
        return self.bond.issue_month <= month


class BondYear:
    """One year's tranches, the city's allocations and the other cities' issuance."""

    def __init__(self, world: World, year: int):
        self.world = world
        self.year = year
        self.rng = world.rng("bonds", year)
        self.tranche_months = self._tranche_months()
        self.bonds = self._bonds()
        self.allocations = self._allocations()

    # -- the province's tranches --------------------------------------------------

    def _tranche_months(self) -> tuple[int, ...]:
        count = self.rng.randint(5, 8)
        months = {1}
        while len(months) < count:
            months.add(self.rng.choices(range(1, 13), weights=TRANCHE_MONTH_WEIGHTS)[0])
        return tuple(sorted(months))

    def _bonds(self) -> dict[int, tuple[Bond, ...]]:
        """The province's new bonds by tranche month (and the refinancing bond under month 0)."""
        city = self.world.city
        abbreviation = PROVINCE_ABBREVIATIONS.get(city.province_code, "SF")
        bonds: dict[int, tuple[Bond, ...]] = {}
        serial = 0
        for month in self.tranche_months:
            day = self.rng.randint(8, 26)
            terms = sorted(self.rng.sample(TERMS_AND_RATES, self.rng.randint(2, 4)))
            tranche = []
            for term, low, high in terms:
                serial += 1
                tranche.append(
                    Bond(
                        code=f"{self.year}-{abbreviation}-ZX-{serial:03d}",
                        name=f"{self.year}年{city.province_name}政府专项债券（{chinese_number(serial)}期）",
                        type=NEW,
                        issue_date=date(self.year, month, day),
                        term_years=term,
                        coupon_rate=round(self.rng.uniform(low, high), 2),
                    )
                )
            bonds[month] = tuple(tranche)
        refinancing_month = self.rng.choice(range(3, 11))
        issue = self.rng.randint(1, 4)
        bonds[0] = (
            Bond(
                code=f"{self.year}-{abbreviation}-ZR-{issue:03d}",
                name=f"{self.year}年{city.province_name}政府再融资专项债券（{chinese_number(issue)}期）",
                type=REFINANCING,
                issue_date=date(self.year, refinancing_month, self.rng.randint(8, 26)),
                term_years=self.rng.choice((7, 10)),
                coupon_rate=round(self.rng.uniform(2.5, 3.0), 2),
            ),
        )
        return bonds

    # -- the city's allocations -----------------------------------------------------

    def _allocations(self) -> tuple[Allocation, ...]:
        january = date(self.year, 1, 1)
        funded = [p for p in self.world.projects_listed(self.year) if p.is_bond_funded]
        allocations: list[Allocation] = []
        for project in funded:
            rng = self.world.rng("bonds", self.year, "project", project.code)
            eligible = [
                m
                for m in self.tranche_months
                if date(self.year, m, 1) <= project.completion_month
                and months_between(date(self.year, m, 1), project.start_month) <= 4
            ]
            draws = (rng.random(), rng.random(), rng.random(), rng.random())
            if not eligible:
                continue
            first = eligible[0] if draws[0] < 0.6 else rng.choice(eligible)
            months = [first]
            later = [m for m in eligible if m > first]
            if later and draws[1] < 0.35:
                months.append(rng.choice(later))
            remaining = project.total_investment - project.spent_through(add_months(january, -1)) / 100
            for index, month in enumerate(months):
                share = rng.uniform(0.15, 0.45) if index == 0 else rng.uniform(0.08, 0.2)
                amount = max(500.0, min(project.total_investment * share, remaining * 0.8))
                amount = float(round(amount / 100) * 100)
                bond = rng.choice(self.bonds[month])
                idle = rng.randint(3, 5) if draws[2] < 0.15 else 0
                allocations.append(self._allocation(rng, bond, project, amount, idle))
        # Refinancing: repays the debt of projects already built or building; spent at once.
        refinancing = self.bonds[0][0]
        older = [p for p in funded if p.start_month < january]
        for project in self.rng.sample(older, min(3, len(older))):
            amount = float(round(project.total_investment * self.rng.uniform(0.05, 0.15) / 100) * 100) or 500.0
            cents = round(amount * 100)
            allocations.append(Allocation(refinancing, _recipient(project), cents, (cents,)))
        return tuple(self._with_unlisted(allocations))

    def _allocation(self, rng, bond: Bond, project: Project, amount: float, idle: int) -> Allocation:
        """Spent as the project builds: from its start (or the issue) plus any idle months, 3–9 months long."""
        cents = round(amount * 100)
        begin = max(bond.issue_month, project.start_month)
        begin = add_months(begin, idle)
        length = rng.randint(3, 9)
        share_spent = rng.uniform(0.85, 1.0)
        weights = []
        for offset in range(length):
            month = add_months(begin, offset)
            weights.append(project.spent_in(month) + 1 if month <= project.completion_month else 0.0)
        if sum(weights) == 0:
            weights = [1.0] * length
        budget = math.floor(cents * share_spent)
        shares = [w / sum(weights) * budget for w in weights]
        amounts = [math.floor(s) for s in shares]
        for i in sorted(range(length), key=lambda i: shares[i] - amounts[i], reverse=True)[: budget - sum(amounts)]:
            amounts[i] += 1
        lead = months_between(bond.issue_month, begin)
        return Allocation(bond, _recipient(project), cents, tuple([0] * lead + amounts))

    def _with_unlisted(self, allocations: list[Allocation]) -> list[Allocation]:
        """Mark a few new-bond allocations as going to a project the DRC does not list."""
        rng = self.world.rng("bonds", self.year, "unlisted")
        candidates = [p for p in self.world.minor.projects_listed(self.year) if p.is_bond_funded]
        listed = self.world.projects_listed(self.year)
        taken_codes, taken_names = {p.code for p in listed}, {p.name for p in listed}
        candidates = [p for p in candidates if p.code not in taken_codes and p.name not in taken_names]
        new = [i for i, a in enumerate(allocations) if a.bond.type == NEW]
        slots = rng.sample(new, min(rng.randint(*UNLISTED_SLOTS), len(new)))
        picks = rng.sample(candidates, min(len(slots), len(candidates)))
        result = list(allocations)
        for index, project in zip(slots, picks, strict=False):
            original = result[index]
            result[index] = Allocation(
                original.bond, original.recipient, original.allocated, original.spending, unlisted=_recipient(project)
            )
        return result

    # -- sums --------------------------------------------------------------------

    def issued(self, month: date) -> int:
        """The city's new bonds issued from January to ``month``, 0.01 万元."""
        return sum(a.allocated for a in self.allocations if a.bond.type == NEW and a.is_issued_by(month))

    def spent(self, month: date) -> int:
        """Spent of the city's new bonds by the end of ``month``, 0.01 万元."""
        return sum(a.spent_through(month) for a in self.allocations if a.bond.type == NEW and a.is_issued_by(month))

    @cached_property
    def other_cities(self) -> dict[str, tuple[float, tuple[float, ...], float]]:
        """Per other prefecture city: the year's total (万元), its share of each tranche, its spending pace."""
        result = {}
        for code in self.world.city.province_cities:
            if code == self.world.city.code:
                continue
            rng = self.world.rng("bonds", self.year, "city", code)
            total = CITY_ISSUANCE.get(code, DEFAULT_CITY_ISSUANCE) * 10_000 * rng.uniform(0.85, 1.25)
            weights = [rng.uniform(0.5, 1.5) for _ in self.tranche_months]
            shares = tuple(w / sum(weights) for w in weights)
            result[code] = (total, shares, rng.uniform(2.5, 5.0))
        return result

    def other_city(self, code: str, month: date) -> tuple[float, float]:
        """(issued, spent) of another city from January to ``month``, 万元."""
        total, shares, pace = self.other_cities[code]
        issued = spent = 0.0
        for tranche, share in zip(self.tranche_months, shares, strict=True):
            if tranche > month.month:
                continue
            amount = total * share
            issued += amount
            spent += amount * (1 - math.exp(-(month.month - tranche + 0.5) / pace))
        return issued, spent


def _recipient(project: Project) -> Recipient:
    return Recipient(
        project.code, project.name, project.district_code, BOND_SECTORS.get(project.sector, DEFAULT_BOND_SECTOR)
    )


class Bonds:
    """The bond years of a world, built as they are asked for."""

    def __init__(self, world: World):
        self.world = world
        self._years: dict[int, BondYear] = {}

    def year(self, year: int) -> BondYear:
        if year not in self._years:
            self._years[year] = BondYear(self.world, year)
        return self._years[year]
