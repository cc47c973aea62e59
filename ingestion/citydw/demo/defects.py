"""The defects a real year brings, planned per year so that any range of months agrees.

Each year, at ``defect_rate`` 1: one delivery arrives late, one never
arrives, one is rejected for a missing column and then corrected, one month
a department reports in 元 (and says so), one unit slip (10,000× under a
万元 header), and a few rows across the departments fail a rule of their
template. At a lower rate each of these happens with that probability; at 0
none does. The draws are taken whatever the rate, and from a generator
seeded by the year alone, so a month's defects never depend on which months
were asked for.

The DRC's row defects are its own (:mod:`citydw.demo.drc`, drawn month by
month); the bond allocations' allocations to projects the DRC does not list
are planned with the bonds (:mod:`citydw.demo.bonds`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

ROW_DEFECTS: dict[str, str] = {
    "spent_over_allocated": "finance.bond_allocations",
    "completion_over_100": "housing.drainage_zones",
    "approved_without_date": "nrp.spatial_plans",
    "unknown_status": "urban_mgmt.parking_lots",
    "bad_credit_code": "education.schools",
    "swapped_coordinates": "health.clinics",
    "ytd_below_last_month": "expropriation.demolition_progress",
    "duplicate_key": "housing.renovation_projects",
    "malformed_project_code": "water.water_projects",
    "foreign_district_code": "transport.transport_projects",
    "negative_capacity": "civil_affairs.elderly_care",
}
"""Row defect kind → the dataset it is put in."""

ROW_DEFECT_CHANCE = 0.5
"""Chance, at defect_rate 1, that a row defect kind occurs in a year: a few rows a year in all."""

LATE_CANDIDATES = (
    "drc.major_projects",
    "finance.bond_allocations",
    "finance.province_bond_bulletin",
    "nrp.spatial_plans",
    "housing.renovation_projects",
    "housing.drainage_zones",
    "water.water_projects",
    "urban_mgmt.parking_lots",
    "expropriation.demolition_progress",
)
# The delivery that never arrives is one whose month the marts can do without: not the DRC's list
# (every other dataset is checked against it), and not a dataset that alone feeds a contract mart
# (bonds, bulletin, spatial plans, drainage, demolition), whose mart would lose the whole month. The
# ledger, the report and the chase show a missing delivery the same way whichever it is.
SOLE_SOURCES_OF_A_MART = (
    "drc.major_projects",
    "finance.bond_allocations",
    "finance.province_bond_bulletin",
    "nrp.spatial_plans",
    "housing.drainage_zones",
    "expropriation.demolition_progress",
)
MISSING_CANDIDATES = tuple(d for d in LATE_CANDIDATES if d not in SOLE_SOURCES_OF_A_MART)
REJECTED_FIELDS: dict[str, str] = {
    "drc.major_projects": "status",
    "finance.bond_allocations": "bond_type",
    "finance.province_bond_bulletin": "city_code",
    "nrp.spatial_plans": "plan_code",
    "housing.renovation_projects": "project_id",
    "housing.drainage_zones": "zone_code",
    "water.water_projects": "project_code",
    "urban_mgmt.parking_lots": "lot_id",
    "expropriation.demolition_progress": "district",
}
"""For each file drop that can be rejected for a missing column: the required column left out."""
YUAN_CANDIDATES = ("finance.bond_allocations", "housing.renovation_projects", "water.water_projects")
SLIP_CANDIDATES = ("water.water_projects", "housing.renovation_projects")

Slot = tuple[str, date]  # (dataset, report month)


@dataclass
class YearPlan:
    """Which deliveries of one year carry which defect."""

    year: int
    late: set[Slot] = field(default_factory=set)
    missing: set[Slot] = field(default_factory=set)
    rejected: dict[Slot, str] = field(default_factory=dict)  # → the field the first version lacks
    yuan: set[Slot] = field(default_factory=set)
    slip: set[Slot] = field(default_factory=set)
    rows: dict[Slot, list[str]] = field(default_factory=dict)  # → row defect kinds

    @classmethod
    def draw(cls, rng: random.Random, year: int, defect_rate: float) -> YearPlan:
        """The year's plan; ``rng`` must be seeded by the year (and the world's seed) alone."""
        plan = cls(year)
        chance = min(1.0, defect_rate)
        taken: set[Slot] = set()

        def slot(candidates: tuple[str, ...], months: range = range(1, 13)) -> Slot:
            while True:
                pick = (rng.choice(candidates), date(year, rng.choice(months), 1))
                if pick not in taken:
                    taken.add(pick)
                    return pick

        # Missing first, so a unit slip can avoid falling right after a month that never arrived.
        draws = {
            "missing": (rng.random(), slot(MISSING_CANDIDATES)),
            "late": (rng.random(), slot(LATE_CANDIDATES)),
            "rejected": (rng.random(), slot(tuple(REJECTED_FIELDS))),
            "yuan": (rng.random(), slot(YUAN_CANDIDATES)),
        }
        missing_slot = draws["missing"][1]
        while True:  # a slip is seen against last month's figure: February onwards, last month delivered
            slip_slot = slot(SLIP_CANDIDATES, range(2, 13))
            before = (slip_slot[0], date(year, slip_slot[1].month - 1, 1))
            if before != missing_slot:
                break
        draws["slip"] = (rng.random(), slip_slot)
        for kind, (draw, picked) in draws.items():
            if draw >= chance:
                continue
            if kind == "missing":
                plan.missing.add(picked)
            elif kind == "late":
                plan.late.add(picked)
            elif kind == "rejected":
                plan.rejected[picked] = REJECTED_FIELDS[picked[0]]
            elif kind == "yuan":
                plan.yuan.add(picked)
            else:
                plan.slip.add(picked)
        row_chance = min(1.0, ROW_DEFECT_CHANCE * defect_rate)
        for kind, dataset in ROW_DEFECTS.items():
            draw = rng.random()
            # Demolition's ytd can only fall below last month's from February on.
            months = list(range(2, 13) if kind == "ytd_below_last_month" else range(1, 13))
            month = date(year, rng.choice(months), 1)
            if (dataset, month) == missing_slot:  # a month that never arrives cannot carry a row
                month = date(year, months[(months.index(month.month) + 1) % len(months)], 1)
            if draw < row_chance:
                plan.rows.setdefault((dataset, month), []).append(kind)
        return plan

    def row_defects(self, dataset: str, month: date) -> tuple[str, ...]:
        return tuple(self.rows.get((dataset, month), ()))
