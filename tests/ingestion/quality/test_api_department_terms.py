"""An API department reads its problems in its own terms (issue 17.6): the registry's Chinese field
names and "第 N 条记录", never the JSON key (``qhdm``) or a record index."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from citydw.orchestration import ingest_dataset
from citydw.quality import report
from citydw.settings import get_settings

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def drc_only(monkeypatch, tmp_path):
    """Education's API dataset is needed: the repository's registry and suites, not the DRC alone."""
    monkeypatch.setenv("CITYDW_REGISTRY_DIR", str(REPO / "registry"))
    monkeypatch.setenv("CITYDW_EXPECTATIONS_DIR", str(REPO / "expectations"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def school(number: int, **overrides: object) -> dict:
    record = {
        "id": f"12321002453101{number:03d}G", "name": f"第{number}幼儿园", "type": "幼儿园", "qhdm": "321002",
        "jd": "头桥街道", "lng": 119.503431, "lat": 32.388738, "capacity": 450, "status": "已投用",
        "plan_year": None, "start_date": None, "open_date": "1971-09-01", "inclusive": True,
    }  # fmt: skip
    return record | overrides


@pytest.mark.slow
def test_an_api_department_sees_chinese_field_names_and_record_numbers(db, tmp_path, citydw_home):
    feed = tmp_path / "schools.json"
    feed.write_text(json.dumps([school(1), school(2), school(3, qhdm="999999")], ensure_ascii=False))
    result = ingest_dataset("education.schools", "2022-07", file=str(feed))
    assert (result.status, result.rows_quarantined) == ("accepted", 1)
    [problem] = result.problems
    assert problem.header == "区划代码" and problem.source_row == 3

    report.run("2022-07", notify=False)

    sheet = openpyxl.load_workbook(Path(citydw_home) / "reports" / "2022-07" / "corrections" / "education.xlsx")
    rows = list(sheet["待更正"].iter_rows(min_row=4, values_only=True))
    header, [case] = rows[0], rows[1:]
    found = dict(zip(header, case, strict=True))
    assert (found["行号"], found["列名"], found["填报值"]) == ("第3条记录", "区划代码", "999999")
    assert "第几条记录" in sheet["待更正"]["A3"].value
    text = " ".join(str(v) for row in sheet["待更正"].iter_rows(values_only=True) for v in row if v is not None)
    assert "qhdm" not in text and "records[" not in text
