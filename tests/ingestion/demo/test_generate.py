"""``generate``: files where the registry says, reproducible, with the defects the manifest lists."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import fsspec
import pytest
from python_calamine import CalamineWorkbook

from citydw.city import load_city
from citydw.demo.generate import generate
from citydw.demo.manifest import DEFECT_KINDS, read_manifest
from citydw.registry import load_registry
from citydw.sources.filedrop import list_candidates

FIRST, LAST = date(2022, 1, 1), date(2022, 12, 1)
MAJOR_PROJECTS = "drc.major_projects"


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("drop")
    generate(str(root), FIRST, LAST, seed=2022)
    return root


@pytest.fixture(scope="module")
def clean_drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clean")
    generate(str(root), FIRST, LAST, seed=2022, defect_rate=0)
    return root


def _manifest(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text(encoding="utf-8"))


def _table(path: Path) -> tuple[list[list], int, dict[str, int]]:
    """The sheet's rows, the index of the leaf header row, and leaf header → column."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    header_row = next(i for i, row in enumerate(rows) if "项目代码" in row)
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


def test_one_file_a_month_lands_in_the_registry_channel_path(drop: Path) -> None:
    spec = load_registry().dataset(MAJOR_PROJECTS)
    manifest = _manifest(drop)
    entries = {f["month"]: f for f in manifest["files"]}
    assert sorted(entries) == [f"2022-{m:02d}" for m in range(1, 13)]
    for month, entry in entries.items():
        (candidate,) = list_candidates(spec, str(drop), date.fromisoformat(f"{month}-01"))
        assert entry["path"] == f"drc/major_projects/{month}/{candidate.file_name}"
        assert re.fullmatch(r"(附件1：)?扬州市2022年1(-\d{1,2})?月重大项目推进情况调度表\.xlsx", candidate.file_name)
        # The file drop takes the mtime as the time of receipt.
        assert candidate.received_at == datetime.fromisoformat(entry["delivered_at"])


def test_returns_the_files_written_the_manifest_last(tmp_path: Path) -> None:
    written = generate(str(tmp_path), date(2022, 3, 1), date(2022, 4, 1))
    assert len(written) == 3
    assert written[-1] == f"{tmp_path}/manifest.json"
    assert all(Path(path).is_file() for path in written)


def test_same_seed_same_bytes(drop: Path, tmp_path: Path) -> None:
    generate(str(tmp_path), FIRST, LAST, seed=2022)
    for entry in _manifest(drop)["files"]:
        assert (tmp_path / entry["path"]).read_bytes() == (drop / entry["path"]).read_bytes()
    assert (tmp_path / "manifest.json").read_bytes() == (drop / "manifest.json").read_bytes()


def test_a_month_does_not_depend_on_the_range_asked_for(drop: Path, tmp_path: Path) -> None:
    generate(str(tmp_path), date(2021, 1, 1), date(2022, 7, 1), seed=2022)
    (july,) = [f for f in _manifest(drop)["files"] if f["month"] == "2022-07"]
    assert (tmp_path / july["path"]).read_bytes() == (drop / july["path"]).read_bytes()


def test_another_seed_other_files_and_no_stale_version_left(drop: Path, tmp_path: Path) -> None:
    generate(str(tmp_path), FIRST, LAST, seed=2022)
    generate(str(tmp_path), FIRST, LAST, seed=99)
    manifest = _manifest(tmp_path)
    assert {f["seed"] for f in manifest["files"]} == {99}
    for entry in manifest["files"]:
        folder = (tmp_path / entry["path"]).parent
        assert [p.name for p in folder.iterdir()] == [Path(entry["path"]).name], "one version per month"
    original = {f["month"]: f["sha256"] for f in _manifest(drop)["files"]}
    assert any(f["sha256"] != original[f["month"]] for f in manifest["files"])


def test_a_later_range_keeps_the_earlier_months_in_the_manifest(tmp_path: Path) -> None:
    generate(str(tmp_path), date(2022, 1, 1), date(2022, 2, 1))
    generate(str(tmp_path), date(2022, 3, 1), date(2022, 3, 1))
    assert [f["month"] for f in read_manifest(str(tmp_path))["files"]] == ["2022-01", "2022-02", "2022-03"]


def test_files_open_and_carry_the_month(drop: Path) -> None:
    for entry in _manifest(drop)["files"]:
        month = int(entry["month"][5:])
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


def test_layouts_vary_between_months(drop: Path) -> None:
    layouts = [f["layout"] for f in _manifest(drop)["files"]]
    for key in ("unit", "header_rows", "total_first", "serial_column", "planned_date_style"):
        assert len({layout[key] for layout in layouts}) > 1, key


def test_every_kind_of_defect_is_in_the_manifest_and_in_the_file(drop: Path) -> None:
    defects = _manifest(drop)["defects"]
    assert {d["kind"] for d in defects} == set(DEFECT_KINDS)
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


def test_no_defects_at_rate_zero(clean_drop: Path) -> None:
    manifest = _manifest(clean_drop)
    assert manifest["defects"] == []
    districts = {name for d in load_city().districts for name in (d.name, d.short_name)}
    for entry in manifest["files"]:
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


def test_defects_do_not_move_the_rest_of_the_file(drop: Path, clean_drop: Path) -> None:
    defects = _manifest(drop)["defects"]
    for entry, clean_entry in zip(_manifest(drop)["files"], _manifest(clean_drop)["files"], strict=True):
        assert entry["layout"] == clean_entry["layout"]
        touched = {d["project_code"] for d in defects if d["month"] == entry["month"]}
        if not touched:
            assert entry["sha256"] == clean_entry["sha256"]
        else:
            assert _untouched_rows(drop / entry["path"], touched) == _untouched_rows(
                clean_drop / clean_entry["path"], touched
            )


def test_writes_through_fsspec() -> None:
    written = generate("memory://citydw-demo", date(2022, 7, 1), date(2022, 7, 1))
    fs = fsspec.filesystem("memory")
    assert written[0].startswith("memory://citydw-demo/drc/major_projects/2022-07/")
    assert fs.cat_file(written[0])[:2] == b"PK"
    assert json.loads(fs.cat_file("/citydw-demo/manifest.json"))["files"][0]["month"] == "2022-07"
    fs.rm("/citydw-demo", recursive=True)
