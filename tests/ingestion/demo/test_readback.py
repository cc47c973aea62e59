"""One month of every dataset read back through the project's readers: every value is the world's.

The files are as messy as DEPARTMENTS.md allows (titles, unit rows, two-row
headers, 合计/小计/全省合计 rows, notes, full-width digits, thousands
separators, percent strings and percent-formatted cells, 亿元 and 公顷 in the
headers, dates in every form, districts without their suffix, GB18030 and
UTF-8 with or without BOM); what the readers make of them must be exactly
what the simulated world says, in the canonical units.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
import pytest

from citydw.demo import facilities as fac
from citydw.demo.bonds import Bonds
from citydw.demo.finance import bulletin_rows
from citydw.demo.people import Population
from citydw.demo.programmes import Demolition, DrainageZones, Renovations, SpatialPlans
from citydw.demo.registers import lot_ids, register_record
from citydw.demo.sectors import sector_projects
from citydw.demo.world import World
from citydw.registry import Registry

MONTH = date(2022, 7, 1)
Expected = dict[Any, dict[str, Any]]  # row key → field → value


def _allocations(world: World, month: date) -> Expected:
    result = {}
    for a in world.part(Bonds).year(month.year).allocations:
        if not a.is_issued_by(month):
            continue
        for recipient in {a.recipient, a.unlisted} - {None}:  # the row names one of them
            result[(a.bond.code, recipient.code)] = {  # type: ignore[union-attr]
                "bond_name": a.bond.name,
                "bond_type": a.bond.type,
                "issue_date": a.bond.issue_date,
                "term_years": a.bond.term_years,
                "coupon_rate": a.bond.coupon_rate,
                "project_name": recipient.name,  # type: ignore[union-attr]
                "district_code": recipient.district_code,  # type: ignore[union-attr]
                "sector": recipient.sector,  # type: ignore[union-attr]
                "allocated": a.allocated / 100,
                "month_spent": a.spent_in(month) / 100,
                "cumulative_spent": a.spent_through(month) / 100,
            }
    return result


def _bulletin(world: World, month: date) -> Expected:
    return {
        r["city_code"]: {
            "issued_ytd": r["issued_ytd"] * 10_000,
            "issued_ytd_prev_year": r["issued_ytd_prev_year"] * 10_000,
            "spent_ytd": r["spent_ytd"] * 10_000,
            "spending_progress": r["spending_progress"],
        }
        for r in bulletin_rows(world, month)
    }


def _plans(world: World, month: date) -> Expected:
    return {
        p.code: {
            "plan_name": p.name,
            "plan_level": p.level,
            "plan_type": p.type,
            "district": p.district_code,
            "status": p.status(month),
            "planned_approval_date": p.planned_approval_date,
            "approval_date": p.approval_date if p.status(month) == "已批复" else None,
        }
        for p in world.part(SpatialPlans).plans
    }


def _renovations(world: World, month: date) -> Expected:
    return {
        r.project_id: {
            "community_name": r.community_name,
            "renovation_type": r.type,
            "district": r.district_code,
            "street": r.street,
            "households": r.households,
            "floor_area": r.floor_area,
            "plan_year": r.plan_year,
            "status": r.status(month),
            "start_date": r.start_date if r.status(month) != "未开工" else None,
            "completion_date": r.completion_date if r.status(month) == "完工" else None,
            "investment": r.investment,
        }
        for r in world.part(Renovations).listed(month)
    }


def _zones(world: World, month: date) -> Expected:
    return {
        z.zone_code: {
            "zone_name": z.zone_name,
            "district": z.district_code,
            "area_km2": z.area_km2,
            "plan_year": z.plan_year,
            "status": z.status(month),
            "completion_pct": z.completion_pct(month),
        }
        for z in world.part(DrainageZones).listed(month)
    }


def _projects(world: World, month: date, dataset: str = "drc.major_projects") -> Expected:
    states = (
        world.snapshot(month)
        if dataset == "drc.major_projects"
        else [p.state(month) for p in sector_projects(world, dataset, month)]
    )
    return {
        s.project.code: {
            "project_name": s.project.name,
            "district": s.project.district_code,
            "category": s.project.category,
            "total_investment": s.project.total_investment,
            "planned_start_date": s.project.planned_start_date,
            "is_bond_funded": s.project.is_bond_funded,
        }
        for s in states
    }


def _register(dataset: str) -> Callable[[World, date], Expected]:
    def expected(world: World, month: date) -> Expected:
        result = {}
        for facility in world.part(fac.Facilities).register(dataset, month):
            record = register_record(facility, month)
            state = facility.as_of(month)
            record["start_date"], record["open_date"] = state.start_date, state.open_date
            record["district"] = record.pop("qhdm")
            record["street"] = record.pop("jd")
            record.setdefault("inclusive", None)
            result[record.pop("id")] = record
        return result

    return expected


def _parking(world: World, month: date) -> Expected:
    result = {}
    for facility, lot_id in lot_ids(world, month).items():
        state = facility.as_of(month)
        result[lot_id] = {
            "name": facility.name,
            "district": facility.district_code,
            "street": facility.street,
            "lng": facility.lng,
            "lat": facility.lat,
            "spaces": facility.capacity,
            "status": state.status,
            "plan_year": facility.plan_year,
            "start_date": state.start_date,
            "open_date": state.open_date,
        }
    return result


def _demolition(world: World, month: date) -> Expected:
    result = {}
    for code in world.city.district_codes:
        year = world.part(Demolition).year(code, month.year)
        result[code] = {
            "annual_target": year.annual_target,
            "month_demolished": year.demolished[month.month - 1] / 100,
            "ytd_demolished": year.ytd(year.demolished, month) / 100,
            "month_households": year.households[month.month - 1],
            "month_land": year.land[month.month - 1] / 100,
            "ytd_land": year.ytd(year.land, month) / 100,
        }
    return result


def _population(world: World, month: date) -> Expected:
    return {(s.district_code, s.street): s.__dict__ for s in world.part(Population).streets(month.year)}


def _communities(world: World, month: date) -> Expected:
    return {
        c.community_id: {
            "name": c.name,
            "district_code": c.district_code,
            "street": c.street,
            "lng": c.lng,
            "lat": c.lat,
            "residents": n,
        }
        for c, n in world.part(Population).community_residents(month.year)
    }


CASES: dict[str, tuple[str, Callable[[World, date], Expected], float]] = {
    # dataset: (report month as the manifest writes it, expected rows, tolerance of amounts)
    "drc.major_projects": ("2022-07", _projects, 0.005),
    "finance.bond_allocations": ("2022-07", _allocations, 0.005),
    "finance.province_bond_bulletin": ("2022-07", _bulletin, 0.005),
    "nrp.spatial_plans": ("2022-07", _plans, 0),
    "housing.renovation_projects": ("2022-07", _renovations, 0.005),
    "housing.drainage_zones": ("2022-07", _zones, 0.005),
    "transport.transport_projects": ("2022-07", lambda w, m: _projects(w, m, "transport.transport_projects"), 0.5),
    "water.water_projects": ("2022-07", lambda w, m: _projects(w, m, "water.water_projects"), 0.005),
    "education.schools": ("2022-07", _register(fac.SCHOOLS), 1e-6),
    "health.clinics": ("2022-07", _register(fac.CLINICS), 1e-6),
    "civil_affairs.elderly_care": ("2022-07", _register(fac.ELDERLY_CARE), 1e-6),
    "urban_mgmt.parking_lots": ("2022-07", _parking, 1e-6),
    # Land written in 公顷 to two decimals is 亩 to within 0.075.
    "expropriation.demolition_progress": ("2022-07", _demolition, 0.075),
    "stats.population": ("2021", _population, 0),
    "stats.residential_communities": ("2021", _communities, 1e-6),
}


def _same(read: Any, expected: Any, tolerance: float) -> bool:
    if expected is None:
        return read is None or read is pd.NA or pd.isna(read)
    if isinstance(expected, bool):
        return bool(read) == expected
    if isinstance(expected, (int, float)):
        return not pd.isna(read) and math.isclose(float(read), float(expected), abs_tol=tolerance + 1e-9)
    if isinstance(expected, date):
        return not pd.isna(read) and pd.Timestamp(read).date() == expected
    return read == expected


def test_every_dataset_has_a_case(registry: Registry) -> None:
    assert set(CASES) == set(registry.datasets)


@pytest.mark.parametrize("dataset", sorted(CASES))
def test_a_month_reads_back_as_the_world_says(dataset: str, read, manifest, registry, world) -> None:  # type: ignore[no-untyped-def]
    month_text, expected_rows, tolerance = CASES[dataset]
    month = date(int(month_text[:4]), int(month_text[5:7] or 1), 1)
    parsed = read(dataset, month_text)
    assert parsed is not None, f"{dataset} {month_text} was delivered"
    spec = registry.dataset(dataset)
    entry = [f for f in manifest["files"] if f["dataset"] == dataset and f["month"] == month_text][-1]
    defects = [d for d in manifest["defects"] if d["dataset"] == dataset and d["month"] == month_text]
    defect_rows = {d["source_row"] for d in defects if d["source_row"] is not None}

    assert set(parsed.frame.columns) == {*spec.field_names, "source_row"}, "every template column is found"
    assert parsed.extra_headers in ([], ["进度排名"])
    assert len(parsed.frame) == entry["rows"]
    assert {issue.source_row for issue in parsed.issues} <= defect_rows, parsed.issues[:3]

    expected = expected_rows(world, month)
    key_fields = spec.key if dataset != "finance.bond_allocations" else ("bond_code", "project_code")
    unit_factor = 10_000 if any(d["kind"] == "unit_slip" for d in defects) else 1
    for row in parsed.frame.to_dict("records"):
        if row["source_row"] in defect_rows:
            continue
        key = row[key_fields[0]] if len(key_fields) == 1 else tuple(row[k] for k in key_fields)
        assert key in expected, (dataset, key)
        for name, value in expected[key].items():
            if name not in row:
                continue
            if unit_factor != 1 and name in ("investment", "total_investment"):
                value *= unit_factor
            if dataset == "water.water_projects" and name not in ("project_name", "district", "category"):
                continue  # a lagging row's figures are last month's: see test_consistency
            assert _same(row[name], value, tolerance), (dataset, key, name, row[name], value)
