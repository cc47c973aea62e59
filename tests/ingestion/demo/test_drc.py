"""The DRC's 调度表 read back through the real reader: every value is the world's."""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from citydw.city import load_city
from citydw.demo.drc import columns, title
from citydw.demo.world import World
from citydw.months import month_range
from citydw.registry import load_registry

MONTHS = month_range(date(2022, 1, 1), date(2022, 12, 1))
DATASET = "drc.major_projects"
DRC_KINDS = {"duplicate_code", "negative_amount", "wrong_district", "non_numeric_amount"}


def _read(read, month: date):  # type: ignore[no-untyped-def]
    return read(DATASET, f"{month:%Y-%m}")


def _entries(manifest: dict) -> list[dict]:
    """The DRC's files, one a month: the last version of each."""
    by_month: dict[str, dict] = {}
    for entry in manifest["files"]:
        if entry["dataset"] == DATASET:
            by_month[entry["month"]] = entry
    return [by_month[m] for m in sorted(by_month)]


def _row_defects(manifest: dict, month: str | None = None) -> list[dict]:
    return [
        d
        for d in manifest["defects"]
        if d["dataset"] == DATASET and d["kind"] in DRC_KINDS and (month is None or d["month"] == month)
    ]


def _same(read: object, expected: object) -> bool:
    if expected is None:
        return read is None or read is pd.NA or (isinstance(read, float) and math.isnan(read)) or pd.isna(read)
    if isinstance(expected, float):
        return abs(float(read) - expected) < 0.005
    if isinstance(expected, date):
        return pd.Timestamp(read).date() == expected
    return read == expected


@pytest.mark.parametrize("month", MONTHS, ids=lambda m: f"{m:%Y-%m}")
def test_a_month_reads_back_as_the_world_says(read, manifest: dict, world: World, month: date) -> None:  # type: ignore[no-untyped-def]
    parsed = _read(read, month)
    expected = {state.project.code: state for state in world.snapshot(month)}
    defect_rows = {d["source_row"] for d in _row_defects(manifest, f"{month:%Y-%m}")}

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
def test_the_reader_finds_fault_only_with_the_injected_defects(read, manifest: dict, month: date) -> None:  # type: ignore[no-untyped-def]
    parsed = _read(read, month)
    defects = _row_defects(manifest, f"{month:%Y-%m}")
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


def test_headers_are_the_templates() -> None:
    spec = load_registry().dataset("drc.major_projects")
    from citydw.demo.drc import choose_layout

    layout = choose_layout(World(load_city(), seed=2022).rng("x"), date(2022, 7, 1))
    headers = {c.field: c.header for c in columns(spec, layout, date(2022, 7, 1))}
    unit = f"（{layout.unit}）" if layout.unit_in_headers else ""
    assert headers["ytd_investment"] == f"1-7月累计完成投资{unit}"
    assert headers["total_investment"] == f"总投资{unit}"
    assert headers["planned_start_date"] == "计划开工时间"
    assert title("扬州市", date(2022, 7, 1)) == "扬州市2022年1-7月重大项目推进情况调度表"


def _table(path: Path) -> tuple[list[list], int, dict[str, int]]:
    """The sheet's rows, the index of the leaf header row, and leaf header → column."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    header_row = next(i for i, row in enumerate(rows) if "项目名称" in row)
    columns = {str(text): index for index, text in enumerate(rows[header_row]) if text}
    # A column of its own spans both header rows: its text is in the upper one.
    for index, text in enumerate(rows[header_row - 1]):
        if text and not rows[header_row][index]:
            columns[str(text)] = index
    return rows, header_row, columns


def _project_rows(path: Path) -> list[list]:
    rows, header_row, columns = _table(path)
    code = columns["项目代码"]
    return [row for row in rows[header_row + 1 :] if re.match(r"^\d{4}-", str(row[code]))]


def test_files_open_and_carry_the_month(drop: Path, manifest: dict) -> None:
    for entry in _entries(manifest):
        if entry["month"] < "2022":
            continue
        month = int(entry["month"][5:])
        assert re.fullmatch(
            r"(附件1：)?扬州市2022年1(-\d{1,2})?月重大项目推进情况调度表(（修改）)?\.xlsx", Path(entry["path"]).name
        )
        rows, header_row, columns = _table(drop / entry["path"])
        period = "1月" if month == 1 else f"1-{month}月"
        assert rows[0][0] == f"扬州市2022年{period}重大项目推进情况调度表"
        assert any(f"单位：{entry['layout']['unit']}" in str(cell) for row in rows[:header_row] for cell in row)
        ytd = "年度累计完成投资" if month == 1 else f"{period}累计完成投资"
        assert any(header.startswith(ytd) for header in columns)
        for header in (
            "项目名称",
            "项目类别",
            "所在地区",
            "责任单位",
            "项目状态",
            "计划开工时间",
            "实际开工时间",
            "计划竣工时间",
            "形象进度",
            "问题类型",
            "存在问题",
            "是否专项债项目",
        ):
            assert header in columns, (entry["path"], header)
        assert any("填报人：王建国" in str(row[0]) for row in rows[header_row:])
        assert len(_project_rows(drop / entry["path"])) == entry["rows"]


def test_layouts_vary_between_months(manifest: dict) -> None:
    layouts = [f["layout"] for f in _entries(manifest)]
    for key in ("unit", "header_rows", "total_first", "serial_column", "planned_date_style"):
        assert len({layout[key] for layout in layouts}) > 1, key


def test_every_kind_of_defect_is_in_the_manifest_and_in_the_file(drop: Path, manifest: dict) -> None:
    defects = _row_defects(manifest)
    assert {d["kind"] for d in defects} == DRC_KINDS
    for defect in defects:
        rows = (
            CalamineWorkbook.from_path(str(drop / defect["path"]))
            .get_sheet_by_index(0)
            .to_python(skip_empty_area=False)
        )
        row = rows[defect["source_row"] - 1]
        assert defect["project_code"] in row, defect
        if defect["kind"] == "duplicate_code":
            assert sum(defect["project_code"] in r for r in rows) == 2
        elif defect["kind"] == "negative_amount":
            assert any(isinstance(cell, float) and cell < 0 for cell in row)
        else:
            assert defect["value"] in row, defect


def test_no_defects_at_rate_zero(clean_drop: Path, clean_manifest: dict) -> None:
    districts = {name for d in load_city().districts for name in (d.name, d.short_name)}
    for entry in _entries(clean_manifest):
        _, _, columns = _table(clean_drop / entry["path"])
        project_rows = _project_rows(clean_drop / entry["path"])
        codes = [row[columns["项目代码"]] for row in project_rows]
        assert len(codes) == len(set(codes))
        assert {row[columns["所在地区"]] for row in project_rows} <= districts
        amounts = [row[i] for row in project_rows for h, i in columns.items() if "投资" in h]
        assert "待核实" not in amounts
        assert all(not isinstance(a, float) or a >= 0 for a in amounts)


def _untouched_rows(path: Path, touched: set[str]) -> dict[str, list]:
    """Project rows by code, but those with defects, without the 序号 (a pasted row shifts it)."""
    _, _, columns = _table(path)
    code, serial = columns["项目代码"], columns.get("序号")
    return {
        row[code]: [cell for i, cell in enumerate(row) if i != serial]
        for row in _project_rows(path)
        if row[code] not in touched
    }


def test_defects_do_not_move_the_rest_of_the_file(
    drop: Path, manifest: dict, clean_drop: Path, clean_manifest: dict
) -> None:
    clean = {e["month"]: e for e in _entries(clean_manifest)}
    for entry in _entries(manifest):
        if entry["month"] not in clean:
            continue
        clean_entry = clean[entry["month"]]
        assert entry["layout"] == clean_entry["layout"]
        touched = {d["project_code"] for d in _row_defects(manifest, entry["month"])}
        if not touched and entry["delivered_at"] == clean_entry["delivered_at"]:
            assert entry["sha256"] == clean_entry["sha256"]
        else:
            assert _untouched_rows(drop / entry["path"], touched) == _untouched_rows(
                clean_drop / clean_entry["path"], touched
            )
