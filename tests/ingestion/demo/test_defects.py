"""The defects a real year brings: in the manifest, in the files, found by reading them; none at rate 0."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from stdnum.cn import uscc

from citydw.demo.defects import ROW_DEFECTS
from citydw.demo.generate import generate
from citydw.demo.manifest import DEFECT_KINDS, DELIVERY_DEFECTS
from citydw.demo.orders import CATALOGUE

PROJECT_CODE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")
MONTHLY = sorted(d for d, e in CATALOGUE.items() if not e.yearly)
STATUSES = {
    "urban_mgmt.parking_lots": {"规划", "在建", "已投用"},
    "civil_affairs.elderly_care": {"规划", "在建", "已投用"},
}


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory: pytest.TempPathFactory, helpers):  # type: ignore[no-untyped-def]
    """2022 at twice the real rate: every row defect kind occurs (chance 1), in files to read."""
    root = tmp_path_factory.mktemp("every-kind")
    generate(str(root), date(2022, 1, 1), date(2022, 12, 1), seed=helpers.seed, defect_rate=2.0)
    return root


def test_a_real_year_has_one_of_each_delivery_defect(manifest: dict) -> None:
    for year in ("2021", "2022"):
        kinds = Counter(d["kind"] for d in manifest["defects"] if d["month"].startswith(year))
        for kind in DELIVERY_DEFECTS:
            assert kinds[kind] == 1, (year, kind)
        row_kinds = {kind for kind in kinds if kind in ROW_DEFECTS}
        assert 2 <= len(row_kinds) <= len(ROW_DEFECTS), "a few rows a year fail a rule"
    assert set(d["kind"] for d in manifest["defects"]) <= set(DEFECT_KINDS)


def test_every_kind_of_defect_can_occur(every_kind: Path, helpers) -> None:  # type: ignore[no-untyped-def]
    kinds = {d["kind"] for d in helpers.load_manifest(every_kind)["defects"]}
    assert kinds == set(DEFECT_KINDS)


def test_a_delivery_that_never_arrives_has_no_file(drop: Path, manifest: dict) -> None:
    missing = [d for d in manifest["defects"] if d["kind"] == "never_delivered"]
    assert missing
    for defect in missing:
        assert not [f for f in manifest["files"] if (f["dataset"], f["month"]) == (defect["dataset"], defect["month"])]
        department, name = defect["dataset"].split(".")
        folder = drop / department / name / defect["month"]
        assert not folder.exists() or not any(folder.iterdir())


def test_a_delivery_rejected_for_a_missing_column_is_followed_by_a_corrected_one(
    drop: Path,
    manifest: dict,
    registry,
    city,
    helpers,  # type: ignore[no-untyped-def]
) -> None:
    rejected = [d for d in manifest["defects"] if d["kind"] == "missing_column"]
    assert len(rejected) == 2
    for defect in rejected:
        first, second = [
            f for f in manifest["files"] if (f["dataset"], f["month"]) == (defect["dataset"], defect["month"])
        ]
        assert first["path"] == defect["path"] and first["missing_field"] == defect["field"]
        assert Path(first["path"]).parent == Path(second["path"]).parent
        assert (drop / second["path"]).stat().st_mtime > (drop / first["path"]).stat().st_mtime
        assert defect["field"] not in helpers.read_entry(drop, first, registry, city).frame.columns
        assert defect["field"] in helpers.read_entry(drop, second, registry, city).frame.columns


def test_the_month_in_yuan_says_so_and_reads_in_wan(drop: Path, manifest: dict, read) -> None:  # type: ignore[no-untyped-def]
    for defect in (d for d in manifest["defects"] if d["kind"] == "unit_yuan"):
        parsed = read(defect["dataset"], defect["month"])
        money = [field for field, unit in parsed.units.items() if unit == "元"]
        assert money and all("（元）" in parsed.headers[field] for field in money)
        if defect["dataset"] == "finance.bond_allocations":
            bulletin = read("finance.province_bond_bulletin", defect["month"]).frame
            city_row = bulletin[bulletin["city_code"] == "321000"].iloc[0]
            new = parsed.frame[parsed.frame["bond_type"] == "新增专项债券"]
            assert abs(new["allocated"].sum() - city_row["issued_ytd"]) <= 50


def test_a_unit_slip_is_ten_thousand_times_last_months_figure_under_a_wan_header(manifest: dict, read) -> None:  # type: ignore[no-untyped-def]
    for defect in (d for d in manifest["defects"] if d["kind"] == "unit_slip"):
        year, month = int(defect["month"][:4]), int(defect["month"][5:])
        now = read(defect["dataset"], defect["month"])
        before = read(defect["dataset"], f"{year}-{month - 1:02d}")
        key = "project_id" if defect["dataset"] == "housing.renovation_projects" else "project_code"
        field = "investment" if defect["dataset"] == "housing.renovation_projects" else "total_investment"
        assert now.units[field] == "万元"
        ratios = (now.frame.set_index(key)[field] / before.frame.set_index(key)[field]).dropna()
        assert len(ratios) > 0 and ratios.between(9_999, 10_001).all()


def _row(every_kind: Path, defect: dict, registry, city, helpers) -> tuple[pd.DataFrame, dict]:  # type: ignore[no-untyped-def]
    entry = next(f for f in helpers.load_manifest(every_kind)["files"] if f["path"] == defect["path"])
    frame = helpers.read_entry(every_kind, entry, registry, city).frame
    (row,) = frame[frame["source_row"] == defect["source_row"]].to_dict("records")
    return frame, row


def test_every_row_defect_is_in_its_row_and_breaks_its_rule(every_kind: Path, registry, city, helpers) -> None:  # type: ignore[no-untyped-def]
    manifest = helpers.load_manifest(every_kind)
    read = helpers.reader_for(every_kind, manifest, registry, city)
    checked = set()
    for defect in manifest["defects"]:
        kind = defect["kind"]
        if kind not in ROW_DEFECTS and kind != "unlisted_project":
            continue
        frame, row = _row(every_kind, defect, registry, city, helpers)
        if kind == "spent_over_allocated":
            assert row["cumulative_spent"] > row["allocated"]
        elif kind == "unlisted_project":
            assert row["project_code"] not in set(read("drc.major_projects", defect["month"]).frame["project_code"])
        elif kind == "completion_over_100":
            assert row["completion_pct"] > 100
        elif kind == "approved_without_date":
            assert row["status"] == "已批复" and pd.isna(row["approval_date"])
        elif kind == "unknown_status":
            assert row["status"] not in STATUSES[defect["dataset"]]
        elif kind == "bad_credit_code":
            assert len(row["facility_id"]) == 18 and not uscc.is_valid(row["facility_id"])
        elif kind == "swapped_coordinates":
            assert row["lng"] < 90 < row["lat"]
        elif kind == "ytd_below_last_month":
            month = int(defect["month"][5:])
            last = read(defect["dataset"], f"{defect['month'][:4]}-{month - 1:02d}").frame.set_index("district")
            assert row["ytd_demolished"] < last.at[row["district"], "ytd_demolished"]
        elif kind == "duplicate_key":
            assert (frame["project_id"] == row["project_id"]).sum() == 2
        elif kind == "malformed_project_code":
            assert not PROJECT_CODE.match(row["project_code"])
        elif kind == "foreign_district_code":
            assert row["district"] not in city.district_codes
        elif kind == "negative_capacity":
            assert row["capacity"] < 0
        checked.add(kind)
    assert checked == {*ROW_DEFECTS, "unlisted_project"}


def test_no_defects_at_rate_zero(clean_manifest: dict) -> None:
    assert clean_manifest["defects"] == []
    for dataset in MONTHLY:
        entries = [f for f in clean_manifest["files"] if f["dataset"] == dataset and f["month"].startswith("2022")]
        assert len(entries) == 12, dataset
        assert all(f["version"] == 1 and "missing_field" not in f for f in entries)
        assert all(f["delivered_at"][:10] <= f["due_date"] for f in entries)
