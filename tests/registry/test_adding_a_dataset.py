"""Adding a dataset is configuration: a registry entry and a suite, and it ingests — no package code."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from citydw.orchestration import ingest_dataset
from citydw.settings import get_settings

REPO = Path(__file__).resolve().parents[2]

GREENING = """
code: greening
name: 市园林绿化管理局
name_en: Landscaping and Greening Bureau
contacts:
  - {name: 李绿, role: 统计员, email: stats@greening.demo-city.gov.cn}
datasets:
  - name: park_projects
    title: 城市公园建设进度表
    channel: {kind: file, format: csv, path: "greening/park_projects/{month}", glob: "*.csv"}
    due: {working_day: 7}
    key: [park_code]
    fields:
      - {field: park_code, header: 公园编号, type: text}
      - {field: park_name, header: 公园名称, type: text}
      - {field: district, header: 所在地区, type: district}
      - {field: area, header: 占地面积, type: decimal, unit: 亩}
      - {field: opened_on, header: 开园时间, type: date}
"""

SUITE = {
    "name": "greening.park_projects",
    "expectations": [
        {"type": "expect_column_to_exist", "kwargs": {"column": "park_code"},
         "meta": {"severity": "blocking", "expected": "表头中有“公园编号”"}, "description": "报表须包含“公园编号”列"},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "park_code"},
         "meta": {"severity": "row", "expected": "填写公园编号"}, "description": "“公园编号”为必填项"},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "district", "value_set": {"$PARAMETER": "district_codes"}},
         "meta": {"severity": "row", "expected": "本市区县"}, "description": "所在地区须为本市所辖区县"},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "area", "min_value": 0},
         "meta": {"severity": "row", "expected": "大于或等于 0"}, "description": "“占地面积”不得为负数"},
    ],
}  # fmt: skip


@pytest.fixture
def extended_registry(tmp_path, monkeypatch):
    registry = tmp_path / "registry"
    shutil.copytree(REPO / "registry", registry)
    (registry / "greening.yaml").write_text(GREENING, encoding="utf-8")
    expectations = tmp_path / "expectations"
    shutil.copytree(REPO / "expectations", expectations)
    (expectations / "greening.park_projects.json").write_text(json.dumps(SUITE, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("CITYDW_REGISTRY_DIR", str(registry))
    monkeypatch.setenv("CITYDW_EXPECTATIONS_DIR", str(expectations))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_new_dataset_ingests_from_configuration_alone(db, extended_registry, citydw_home):
    folder = Path(citydw_home) / "drop" / "greening" / "park_projects" / "2022-07"
    folder.mkdir(parents=True)
    csv = (
        "公园编号,公园名称,所在地区,占地面积（公顷）,开园时间\n"
        "GY-001,宋夹城公园,邗江,12,2022年5月\n"
        "GY-002,外地公园,苏州,3,2022-06-01\n"
    )
    (folder / "公园建设进度.csv").write_bytes(csv.encode("gb18030"))

    result = ingest_dataset("greening.park_projects", "2022-07")

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("accepted", 1, 1)
    loaded = db.execute("select park_code, park_name, district, area, opened_on from raw.greening__park_projects")
    assert loaded.fetchall() == [("GY-001", "宋夹城公园", "321003", 180, date(2022, 5, 1))]  # 12 公顷 = 180 亩
    assert db.execute("select column_name, value from meta.quarantine").fetchall() == [("district", "苏州")]
