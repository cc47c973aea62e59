"""The DRC's 调度表 read back through the real reader: every value is the world's."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from citydw.city import load_city
from citydw.demo.drc import columns, title
from citydw.demo.generate import generate
from citydw.demo.world import World
from citydw.months import month_range
from citydw.parsing.reader import read_delivery
from citydw.registry import load_registry

MONTHS = month_range(date(2022, 1, 1), date(2022, 12, 1))


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("drop")
    generate(str(root), MONTHS[0], MONTHS[-1], seed=2022)
    return root


@pytest.fixture(scope="module")
def manifest(drop: Path) -> dict:
    return json.loads((drop / "manifest.json").read_text(encoding="utf-8"))


def _read(drop: Path, manifest: dict, month: date):
    (entry,) = [f for f in manifest["files"] if f["month"] == f"{month:%Y-%m}"]
    path = drop / entry["path"]
    spec = load_registry().dataset("drc.major_projects")
    return read_delivery(path.read_bytes(), path.name, spec, load_city())


def _same(read: object, expected: object) -> bool:
    if expected is None:
        return read is None or read is pd.NA or (isinstance(read, float) and math.isnan(read)) or pd.isna(read)
    if isinstance(expected, float):
        return abs(float(read) - expected) < 0.005
    if isinstance(expected, date):
        return pd.Timestamp(read).date() == expected
    return read == expected


@pytest.mark.parametrize("month", MONTHS, ids=lambda m: f"{m:%Y-%m}")
def test_a_month_reads_back_as_the_world_says(drop: Path, manifest: dict, month: date) -> None:
    parsed = _read(drop, manifest, month)
    world = World(load_city(), seed=2022)
    expected = {state.project.code: state for state in world.snapshot(month)}
    defect_rows = {d["source_row"] for d in manifest["defects"] if d["month"] == f"{month:%Y-%m}"}

    assert parsed.declared_month == month
    assert set(parsed.frame["project_code"]) == set(expected)
    for row in parsed.frame.to_dict("records"):
        if row["source_row"] in defect_rows:
            continue
        state = expected[row["project_code"]]
        project = state.project
        wanted = {
            "project_name": project.name,
            "category": project.category,
            "responsible_unit": project.responsible_unit,
            "status": state.status,
            "progress_note": state.progress_note,
            "blocker_type": state.blocker_type,
            "blocker_note": state.blocker_note,
            "district": project.district_code,
            "total_investment": project.total_investment,
            "annual_plan_investment": state.annual_plan_investment,
            "month_investment": state.month_investment,
            "ytd_investment": state.ytd_investment,
            "planned_start_date": project.planned_start_date,
            "actual_start_date": state.actual_start_date,
            "planned_completion_date": project.planned_completion_date,
            "is_bond_funded": project.is_bond_funded,
        }
        for name, value in wanted.items():
            assert _same(row[name], value), (f"{month:%Y-%m}", row["source_row"], name, row[name], value)


@pytest.mark.parametrize("month", MONTHS, ids=lambda m: f"{m:%Y-%m}")
def test_the_reader_finds_fault_only_with_the_injected_defects(drop: Path, manifest: dict, month: date) -> None:
    parsed = _read(drop, manifest, month)
    defects = [d for d in manifest["defects"] if d["month"] == f"{month:%Y-%m}"]
    flagged = {(issue.source_row, issue.field) for issue in parsed.issues}
    expected = {(d["source_row"], d["field"]) for d in defects if d["kind"] == "non_numeric_amount"}
    assert flagged == expected
    frame = parsed.frame.set_index("source_row")
    for defect in defects:
        row = frame.loc[defect["source_row"]]
        assert row["project_code"] == defect["project_code"]
        if defect["kind"] == "negative_amount":
            assert row[defect["field"]] == pytest.approx(float(defect["value"]))
        elif defect["kind"] == "wrong_district":
            assert pd.isna(row["district"]) or row["district"] not in load_city().district_codes


def test_headers_are_the_templates(drop: Path) -> None:
    spec = load_registry().dataset("drc.major_projects")
    from citydw.demo.drc import choose_layout

    layout = choose_layout(World(load_city(), seed=2022).rng("x"), date(2022, 7, 1))
    headers = {c.field: c.header for c in columns(spec, layout, date(2022, 7, 1))}
    unit = f"（{layout.unit}）" if layout.unit_in_headers else ""
    assert headers["ytd_investment"] == f"1-7月累计完成投资{unit}"
    assert headers["total_investment"] == f"总投资{unit}"
    assert headers["planned_start_date"] == "计划开工时间"
    assert title("扬州市", date(2022, 7, 1)) == "扬州市2022年1-7月重大项目推进情况调度表"
