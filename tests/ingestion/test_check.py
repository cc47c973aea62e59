"""``citydw check``: the verdict and the messages of ingest, and nothing written to the warehouse."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from builders import drc_project, drc_workbook
from typer.testing import CliRunner

from citydw.cli import app
from citydw.orchestration import ingest_dataset

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "drc"
JULY = date(2022, 7, 1)
DRC = "drc.major_projects"

# Ingest's outcome as the check's exit code: rejected 1, accepted with quarantined rows 2, clean 0.
EXPECTED_EXIT = {"clean": 0, "bad_row": 2, "missing_project_code.xlsx": 1, "not_excel_text.xlsx": 1,
                 "zip_bomb.xlsx": 1, "all_bad": 1, "messy_values.xlsx": None, "clerk_report.xlsx": None}  # fmt: skip


def _files(tmp_path: Path) -> dict[str, Path]:
    built = {
        "clean": drc_workbook([drc_project(1), drc_project(2)], JULY),
        "bad_row": drc_workbook([drc_project(1), drc_project(2, 所在地区="火星区")], JULY),
        "all_bad": drc_workbook([drc_project(1, 项目状态="不知道")], JULY),
    }
    files = {}
    for name, data in built.items():
        files[name] = tmp_path / f"{name}.xlsx"
        files[name].write_bytes(data)
    for name in ("missing_project_code.xlsx", "not_excel_text.xlsx", "zip_bomb.xlsx", "messy_values.xlsx",
                 "clerk_report.xlsx"):  # fmt: skip
        files[name] = FIXTURES / name
    return files


def _deliveries(db) -> int:
    return db.execute("select count(*) from meta.deliveries").fetchone()[0]


def test_check_gives_the_verdict_and_messages_ingest_gives_and_writes_nothing(db, tmp_path):
    runner = CliRunner()
    for name, path in _files(tmp_path).items():
        before = _deliveries(db)
        checked = runner.invoke(app, ["check", "--dataset", DRC, "--month", "2022-07", str(path)])
        assert _deliveries(db) == before, f"{name}: check registered a delivery"

        result = ingest_dataset(DRC, "2022-07", file=str(path))
        ingest_exit = 1 if result.status == "rejected" else (2 if result.rows_quarantined else 0)
        assert result.status in ("accepted", "rejected"), name
        assert checked.exit_code == ingest_exit, f"{name}: check {checked.exit_code}, ingest {result.status}"
        if EXPECTED_EXIT[name] is not None:
            assert checked.exit_code == EXPECTED_EXIT[name], name
        for problem in result.problems:
            assert problem.describe() in checked.output, f"{name}: {problem.describe()} not in check output"
        if result.status == "rejected":
            assert result.reason in checked.output


def test_check_names_the_row_column_value_and_what_is_expected(db, tmp_path):
    path = tmp_path / "report.xlsx"
    path.write_bytes(drc_workbook([drc_project(1), drc_project(2, 所在地区="火星区")], JULY))

    checked = CliRunner().invoke(app, ["check", "--dataset", DRC, "--month", "2022-07", str(path)])

    assert checked.exit_code == 2
    line = next(line for line in checked.output.splitlines() if "火星区" in line)
    assert "第5行" in line and "“所在地区”列" in line and "应为" in line


@pytest.mark.parametrize("month", ["2022-13", "July"])
def test_check_refuses_a_month_it_cannot_read(db, tmp_path, month):
    path = tmp_path / "report.xlsx"
    path.write_bytes(drc_workbook([drc_project(1)], JULY))
    checked = CliRunner().invoke(app, ["check", "--dataset", DRC, "--month", month, str(path)])
    assert checked.exit_code == 1 and "YYYY-MM" in checked.output
