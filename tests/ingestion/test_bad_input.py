"""Malformed deliveries through the whole pipeline: a clear message, nothing loaded, nobody else affected.

The readers' own tests check each file's message in detail; these check what
a bad delivery does to the warehouse: nothing of a rejected delivery reaches
``raw``, the previously accepted version stays, other datasets are untouched,
and hostile values are stored verbatim, never executed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from builders import drc_project, drc_workbook

from citydw.orchestration import ingest_dataset
from citydw.pipeline import Context, ingest
from citydw.sources import Candidate
from citydw.warehouse.connect import connect

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "drc"
JULY = date(2022, 7, 1)
DRC = "drc.major_projects"
BONDS = "finance.bond_allocations"

BOND_CSV = (
    "债券编码,债券名称,债券类型,发行日期,期限（年）,票面利率（%）,项目代码,项目名称,区划代码,投向领域,"
    "分配金额（万元）,本月支出（万元）,累计支出（万元）\n"
    "2022-JS-ZX-001,2022年江苏省政府专项债券（一期）,新增专项债券,2022-03-15,10,3.12,"
    "2022-321002-48-01-000001,扬州市第1号道路改造工程,321002,交通基础设施,5000,200,1200\n"
)


@pytest.fixture
def accepted_drc(db, tmp_path):
    """An accepted July DRC report, and the raw rows it left."""
    path = tmp_path / "v1.xlsx"
    path.write_bytes(drc_workbook([drc_project(1), drc_project(2)], JULY))
    assert ingest_dataset(DRC, "2022-07", file=str(path)).status == "accepted"
    return db.execute("select * from raw.drc__major_projects order by source_row").fetchall()


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("truncated.xlsx", "truncated.xlsx"),
        ("zip_bomb.xlsx", "zip_bomb.xlsx"),
        ("not_excel_pdf.xlsx", "Excel"),
        ("no_header.xlsx", "表头"),
        ("empty_sheet.xlsx", "empty_sheet.xlsx"),
        ("missing_project_code.xlsx", "项目代码"),
        ("duplicate_column.xlsx", "duplicate_column.xlsx"),
        ("wrong_unit.xlsx", "亩"),
    ],
)
def test_a_bad_file_is_rejected_clearly_and_the_accepted_version_stays(db, accepted_drc, fixture, message):
    result = ingest_dataset(DRC, "2022-07", file=str(FIXTURES / fixture))

    assert result.status == "rejected"
    assert message in result.reason
    assert db.execute("select * from raw.drc__major_projects order by source_row").fetchall() == accepted_drc
    assert db.execute("select status from meta.deliveries where dataset = %s order by version", (DRC,)).fetchall() == [
        ("accepted",),
        ("rejected",),
    ]


@pytest.mark.parametrize("fixture", ["big5.csv", "mojibake_utf8.csv"])
def test_a_csv_in_an_unknown_encoding_is_rejected_not_guessed(db, tmp_path, fixture):
    result = ingest_dataset(BONDS, "2022-07", file=str(FIXTURES / fixture))

    assert result.status == "rejected"
    assert "GB18030" in result.reason or "gb18030" in result.reason.lower() or "编码" in result.reason
    assert db.execute("select count(*) from raw.finance__bond_allocations").fetchone() == (0,)


def test_one_department_rejected_leaves_another_untouched(db, accepted_drc, tmp_path):
    bonds = tmp_path / "bonds.csv"
    bonds.write_bytes(BOND_CSV.encode("gb18030"))
    assert ingest_dataset(BONDS, "2022-07", file=str(bonds)).status == "accepted"
    bond_rows = db.execute("select * from raw.finance__bond_allocations").fetchall()

    ingest_dataset(DRC, "2022-07", file=str(FIXTURES / "truncated.xlsx"))

    assert db.execute("select * from raw.finance__bond_allocations").fetchall() == bond_rows
    assert db.execute("select * from raw.drc__major_projects order by source_row").fetchall() == accepted_drc


def test_hostile_values_are_stored_verbatim_and_never_executed(db, tmp_path):
    injection = "x'); drop table meta.deliveries; --"
    formula = '=HYPERLINK("http://evil.example","点击")'
    rows = [drc_project(1, 项目名称=injection, 存在问题=formula, 形象进度="+1+1"), drc_project(2, 形象进度="@SUM(A1)")]
    path = tmp_path / "hostile.xlsx"
    path.write_bytes(drc_workbook(rows, JULY))

    assert ingest_dataset(DRC, "2022-07", file=str(path)).status == "accepted"

    stored = db.execute(
        "select project_name, blocker_note, progress_note from raw.drc__major_projects order by source_row"
    ).fetchall()
    assert stored[0] == (injection, formula, "+1+1")
    assert stored[1][2] == "@SUM(A1)"
    assert db.execute("select count(*) from meta.deliveries").fetchone() == (1,)


def test_a_file_name_with_dot_dot_is_never_used_as_a_path(db, citydw_home):
    data = drc_workbook([drc_project(1)], JULY)
    candidate = Candidate(
        file_name="../../../../tmp/citydw-escape.xlsx",
        source_uri="https://api.example/../../etc/passwd",
        received_at=datetime.now(tz=UTC),
        read=lambda: data,
    )
    context = Context.load()
    with connect(autocommit=True) as conn:
        result = ingest(conn, context.registry.dataset(DRC), JULY, context, [candidate])

    assert result.status == "accepted"
    assert not Path("/tmp/citydw-escape.xlsx").exists()
    archived = [p for p in Path(citydw_home, "archive").rglob("*") if p.is_file()]
    assert [p.name for p in archived] == [db.execute("select sha256 from meta.deliveries").fetchone()[0]]
