"""The departments agree with each other the way real ones should, read back as the pipeline reads them."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from itertools import pairwise

import pandas as pd
import pytest
from stdnum.cn import uscc

from citydw.city import City
from citydw.demo.facilities import TYPES
from citydw.demo.places import Places
from citydw.demo.world import World
from citydw.months import month_range

MONTHS_2022 = [f"{m:%Y-%m}" for m in month_range(date(2022, 1, 1), date(2022, 12, 1))]
MONTHS = [f"{m:%Y-%m}" for m in month_range(date(2021, 1, 1), date(2022, 12, 1))]
PROJECT_CODE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")
REGISTERS = ("education.schools", "health.clinics", "civil_affairs.elderly_care", "urban_mgmt.parking_lots")


def _defect_keys(manifest: dict, dataset: str, month: str) -> set[str]:
    return {d["row_key"] for d in manifest["defects"] if d["dataset"] == dataset and d["month"] == month}


# -- projects: DRC, transport, water --------------------------------------------------------


@pytest.mark.parametrize("dataset", ["transport.transport_projects", "water.water_projects"])
def test_sector_feeds_report_the_drcs_projects_with_the_same_codes_and_names(read, manifest, world, dataset) -> None:  # type: ignore[no-untyped-def]
    sector = dataset.split(".")[0]
    extras = 0
    for month in MONTHS_2022:
        drc, feed = read("drc.major_projects", month), read(dataset, month)
        if feed is None:  # never delivered
            continue
        names = dict(zip(drc.frame["project_code"], drc.frame["project_name"], strict=True))
        defects = [d for d in manifest["defects"] if d["dataset"] == dataset and d["month"] == month]
        touched = {d["row_key"] for d in defects} | {d["project_code"] for d in defects}
        codes = set(feed.frame["project_code"]) - touched
        listed = {p.code for p in world.projects_listed(int(month[:4])) if p.sector == sector} - touched
        assert listed <= codes, "every listed project of the sector is in the feed"
        for code, name in zip(feed.frame["project_code"], feed.frame["project_name"], strict=True):
            if code in names:
                assert name == names[code], (month, code)
        extras += len(codes - set(names))
    assert extras > 0, "the bureau also reports a few smaller projects of its own"


def test_sector_figures_round_differently_or_lag_a_month_but_never_disagree_otherwise(read, world) -> None:  # type: ignore[no-untyped-def]
    lagging = 0
    for month in MONTHS_2022[1:]:
        drc = read("drc.major_projects", month).frame.set_index("project_code")
        transport = read("transport.transport_projects", month).frame.set_index("project_code")
        for code in transport.index.intersection(drc.index):
            assert abs(transport.at[code, "ytd_investment"] - drc.at[code, "ytd_investment"]) <= 0.05 + 1e-9
            assert abs(transport.at[code, "total_investment"] - drc.at[code, "total_investment"]) <= 0.5 + 1e-9
        water = read("water.water_projects", month)
        if water is None or water.units.get("ytd_investment") != "万元":
            continue
        frame = water.frame.set_index("project_code")
        for code in frame.index.intersection(drc.index):
            now = drc.at[code, "ytd_investment"]
            if abs(frame.at[code, "ytd_investment"] - now) > 0.005:
                state = world.projects_listed(int(month[:4]))
                project = next(p for p in state if p.code == code)
                before = project.state(date(int(month[:4]), int(month[5:]) - 1, 1)).ytd_investment
                assert abs(frame.at[code, "ytd_investment"] - before) < 0.005, (month, code)
                lagging += 1
    assert lagging > 0


# -- special bonds --------------------------------------------------------------------------


def _bond_months_without_row_defects(manifest: dict) -> list[str]:
    touched = {
        d["month"]
        for d in manifest["defects"]
        if d["dataset"] == "finance.bond_allocations" and d["kind"] in ("spent_over_allocated", "unit_slip")
    }
    return [m for m in MONTHS if m not in touched]


def test_the_bulletins_city_row_agrees_with_the_citys_allocations(read, read_clean, manifest) -> None:  # type: ignore[no-untyped-def]
    checked = 0
    for reader, months in ((read_clean, MONTHS_2022), (read, _bond_months_without_row_defects(manifest))):
        for month in months:
            bulletin, allocations = (
                reader("finance.province_bond_bulletin", month),
                reader("finance.bond_allocations", month),
            )
            if bulletin is None or allocations is None:
                continue
            new = allocations.frame[allocations.frame["bond_type"] == "新增专项债券"]
            (row,) = bulletin.frame[bulletin.frame["city_code"] == "321000"].to_dict("records")
            # 亿元 with two decimals: within 0.005 亿元, 50 万元.
            assert abs(row["issued_ytd"] - new["allocated"].sum()) <= 50 + 1e-6, month
            assert abs(row["spent_ytd"] - new["cumulative_spent"].sum()) <= 50 + 1e-6, month
            checked += 1
    assert checked >= 20


def test_the_bulletin_lists_the_provinces_cities_and_last_year_is_last_years_bulletin(read, city: City) -> None:  # type: ignore[no-untyped-def]
    for month in MONTHS_2022:
        frame = read("finance.province_bond_bulletin", month).frame
        assert set(frame["city_code"]) == set(city.province_cities), "13 cities; 全省合计 is not loaded"
        assert all(re.fullmatch(r"32\d{2}00", code) for code in frame["city_code"])
        for name, code in zip(frame["city_name"], frame["city_code"], strict=True):
            assert city.province_city_code(name) == code
        assert ((frame["spending_progress"] >= 0) & (frame["spending_progress"] <= 100)).all()
        last_year = read("finance.province_bond_bulletin", f"2021-{month[5:]}")
        if last_year is not None:
            before = last_year.frame.set_index("city_code")["issued_ytd"]
            assert (frame.set_index("city_code")["issued_ytd_prev_year"] - before).abs().max() < 1e-6, month


def test_bond_spending_never_falls_never_exceeds_the_allocation_and_sometimes_waits(read, manifest) -> None:  # type: ignore[no-untyped-def]
    for year in ("2021", "2022"):
        history: dict[tuple[str, str], list[tuple[str, float, float, float]]] = defaultdict(list)
        for month in (m for m in MONTHS if m.startswith(year)):
            parsed = read("finance.bond_allocations", month)
            if parsed is None:
                continue
            bad = _defect_keys(manifest, "finance.bond_allocations", month)
            for row in parsed.frame.to_dict("records"):
                key = f"{row['bond_code']}|{row['project_code']}"
                if key in bad and any(
                    d["kind"] == "spent_over_allocated" and d["row_key"] == key
                    for d in manifest["defects"]
                    if d["month"] == month
                ):
                    continue
                assert row["bond_code"].startswith(f"{year}-JS-")
                assert pd.Timestamp(row["issue_date"]) <= pd.Timestamp(f"{month}-01") + pd.offsets.MonthEnd(0)
                assert 0 <= row["cumulative_spent"] <= row["allocated"] + 1e-6
                history[(row["bond_code"], row["project_code"])].append(
                    (month, row["cumulative_spent"], row["month_spent"], row["allocated"])
                )
        idle = 0
        for series in history.values():
            for (first, before, _, _), (second, now, spent, _) in pairwise(series):
                assert now >= before - 1e-6
                if MONTHS.index(second) == MONTHS.index(first) + 1:
                    assert abs(now - before - spent) < 0.02, (first, second)
            idle += sum(1 for _, cumulative, _, _ in series[:3] if cumulative == 0) == 3 and len(series) >= 3
        assert idle >= 3, year


def test_allocations_to_projects_the_drc_does_not_list_are_exactly_the_manifests(read, manifest) -> None:  # type: ignore[no-untyped-def]
    found = 0
    for month in MONTHS_2022:
        allocations = read("finance.bond_allocations", month)
        if allocations is None:
            continue
        listed = set(read("drc.major_projects", month).frame["project_code"])
        unknown = {
            f"{b}|{p}"
            for b, p in zip(allocations.frame["bond_code"], allocations.frame["project_code"], strict=True)
            if p not in listed
        }
        flagged = {d["row_key"] for d in manifest["defects"] if d["month"] == month and d["kind"] == "unlisted_project"}
        assert unknown == flagged, month
        found += len(flagged)
    assert found > 0


def test_bond_funded_projects_are_the_ones_that_get_bonds(read) -> None:  # type: ignore[no-untyped-def]
    drc = read("drc.major_projects", "2022-12").frame.set_index("project_code")
    allocations = read("finance.bond_allocations", "2022-12").frame
    funded = [code for code in allocations["project_code"] if code in drc.index]
    assert funded and all(drc.loc[funded, "is_bond_funded"])


# -- people and places ----------------------------------------------------------------------


def test_communities_add_up_to_the_district_population(read, city: City) -> None:  # type: ignore[no-untyped-def]
    population, communities = read("stats.population", "2021"), read("stats.residential_communities", "2021")
    by_district = population.frame.groupby("district_code")["residents"].sum()
    assert set(by_district.index) == set(city.district_codes)
    assert (communities.frame.groupby("district_code")["residents"].sum() == by_district).all()
    by_street = population.frame.set_index(["district_code", "street"])["residents"].to_dict()
    assert communities.frame.groupby(["district_code", "street"])["residents"].sum().to_dict() == by_street
    frame = population.frame
    bands = frame[["residents_3_5", "residents_6_11", "residents_12_14", "residents_60_plus"]].sum(axis=1)
    assert (bands < frame["residents"]).all()
    assert ((frame["residents_60_plus"] / frame["residents"]).between(0.18, 0.36)).all()
    assert ((frame["residents_3_5"] / frame["residents"]).between(0.02, 0.035)).all()
    assert 4_000_000 < frame["residents"].sum() < 5_000_000


def test_places_are_inside_their_district(read, world: World, manifest: dict) -> None:  # type: ignore[no-untyped-def]
    places = world.part(Places.of)
    west, south, east, north = places.bounds()
    assert 118.9 < west < east < 119.9 and 32.1 < south < north < 33.4  # around Yangzhou
    frames = [("stats.residential_communities", "2021", read("stats.residential_communities", "2021").frame)]
    frames += [(d, "2022-07", read(d, "2022-07").frame) for d in REGISTERS]
    for dataset, month, frame in frames:
        bad = _defect_keys(manifest, dataset, month)
        key = frame.columns[0]
        district = "district_code" if "district_code" in frame else "district"
        for row in frame.to_dict("records"):
            if row[key] in bad:
                continue
            assert places.area_of(row[district]).contains(row["lng"], row["lat"]), (dataset, row[key])


# -- facility registers ---------------------------------------------------------------------


STATUS_ORDER = {"规划": 0, "在建": 1, "已投用": 2}


def test_facilities_have_sensible_capacities_valid_ids_and_statuses_that_move_forward(read, manifest) -> None:  # type: ignore[no-untyped-def]
    for dataset in REGISTERS:
        capacity = "spaces" if dataset == "urban_mgmt.parking_lots" else "capacity"
        key = "lot_id" if dataset == "urban_mgmt.parking_lots" else "facility_id"
        last: dict[str, int] = {}
        for month in MONTHS_2022:
            parsed = read(dataset, month)
            if parsed is None:
                continue
            bad = _defect_keys(manifest, dataset, month)
            frame = parsed.frame[~parsed.frame[key].isin(bad)]
            for row in frame.to_dict("records"):
                kind = TYPES["停车场" if dataset == "urban_mgmt.parking_lots" else row["type"]]
                low, high, _ = kind.capacity
                assert low <= row[capacity] <= high, (dataset, row)
                if key == "facility_id":
                    assert uscc.is_valid(row[key]) or PROJECT_CODE.match(row[key]), row
                    assert (row["status"] == "已投用") == bool(uscc.is_valid(row[key]))
                    assert (row["type"] == "幼儿园") == (not pd.isna(row.get("inclusive", pd.NA)))
                status = STATUS_ORDER[row["status"]]
                assert status >= last.get(row["name"], 0), (dataset, month, row["name"])
                last[row["name"]] = status
                if row["status"] != "规划":
                    assert not pd.isna(row["start_date"]) or row["status"] == "已投用"
                if row["status"] == "已投用":
                    assert not pd.isna(row["open_date"])


def test_some_facilities_planned_in_2021_have_not_started_by_the_end_of_2022(read) -> None:  # type: ignore[no-untyped-def]
    waiting = 0
    for dataset in REGISTERS:
        frame = read(dataset, "2022-12").frame
        waiting += int(((frame["plan_year"] == 2021) & (frame["status"] == "规划")).sum())
    assert waiting >= 2


def test_new_schools_and_clinics_of_major_projects_carry_the_drcs_project_code(read) -> None:  # type: ignore[no-untyped-def]
    drc = read("drc.major_projects", "2022-07").frame.set_index("project_code")
    linked = 0
    for dataset in REGISTERS[:3]:
        frame = read(dataset, "2022-07").frame
        for row in frame[frame["facility_id"].isin(drc.index)].to_dict("records"):
            assert row["district"] == drc.at[row["facility_id"], "district"]
            linked += 1
    assert linked >= 3


# -- programmes -----------------------------------------------------------------------------


def test_plans_renovations_and_zones_only_move_forward(read, manifest) -> None:  # type: ignore[no-untyped-def]
    orders = {
        "nrp.spatial_plans": ("plan_code", ("未启动", "编制中", "报批中", "已批复")),
        "housing.renovation_projects": ("project_id", ("未开工", "在建", "完工")),
        "housing.drainage_zones": ("zone_code", ("未开工", "在建", "已达标")),
    }
    for dataset, (key, statuses) in orders.items():
        last: dict[str, tuple[int, float]] = {}
        for month in MONTHS:
            parsed = read(dataset, month)
            if parsed is None:
                continue
            bad = _defect_keys(manifest, dataset, month)
            for row in parsed.frame.to_dict("records"):
                if row[key] in bad:
                    continue
                status = statuses.index(row["status"])
                done = row.get("completion_pct", 0.0)
                before = last.get(row[key], (0, 0.0))
                assert (status, done) >= before and done >= before[1], (dataset, month, row[key])
                last[row[key]] = (status, done)
                if dataset == "nrp.spatial_plans":
                    assert (row["status"] == "已批复") == (not pd.isna(row["approval_date"]))
                if dataset == "housing.drainage_zones":
                    assert (row["status"] == "已达标") == (done == 100)


def test_demolition_never_falls_within_a_year_and_last_year_has_its_total(read, manifest, city) -> None:  # type: ignore[no-untyped-def]
    assert read("expropriation.demolition_progress", "2021-12") is not None
    for year in ("2021", "2022"):
        last: dict[str, tuple[float, float]] = {}
        for month in (m for m in MONTHS if m.startswith(year)):
            parsed = read("expropriation.demolition_progress", month)
            if parsed is None:
                continue
            assert set(parsed.frame["district"]) == set(city.district_codes)
            bad = _defect_keys(manifest, "expropriation.demolition_progress", month)
            for row in parsed.frame.to_dict("records"):
                if row["district"] in bad:
                    continue
                before = last.get(row["district"], (0.0, 0.0))
                assert row["ytd_demolished"] >= before[0] - 1e-6 and row["ytd_land"] >= before[1] - 0.01
                last[row["district"]] = (row["ytd_demolished"], row["ytd_land"])
