"""Shared fixtures for the reader tests: the DRC dataset, the demo city, fixture files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from citydw.city import City, load_city
from citydw.registry import Channel, DatasetSpec, Registry

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "drc"


@pytest.fixture(scope="session")
def drc() -> DatasetSpec:
    """drc.major_projects as the registry declares it (an xlsx channel)."""
    return Registry.load(REPO / "registry").dataset("drc.major_projects")


@pytest.fixture(scope="session")
def drc_csv(drc: DatasetSpec) -> DatasetSpec:
    """The same template delivered as CSV, as water.water_projects is."""
    return drc.model_copy(update={"channel": Channel(kind="file", format="csv", path="water/{month}")})


@pytest.fixture(scope="session")
def city() -> City:
    return load_city(REPO / "dbt_project" / "seeds" / "city")


@pytest.fixture(scope="session")
def gauge() -> DatasetSpec:
    """A small template with the types DRC lacks: percent, integer, region code, 亩/万平方米 units."""
    return DatasetSpec.model_validate(
        {
            "department": "test",
            "name": "gauge",
            "title": "测试表",
            "channel": {"kind": "file", "format": "xlsx", "path": "test/{month}"},
            "due": {"working_day": 5},
            "key": ["zone_code"],
            "fields": [
                {"field": "zone_code", "header": "片区编号", "key": "id"},
                {"field": "district_code", "header": "区划代码", "type": "region_code", "key": "qhdm"},
                {"field": "district", "header": "所在地区", "type": "district", "key": "qh"},
                {"field": "households", "header": "户数", "type": "integer", "key": "hs"},
                {"field": "completion_pct", "header": "完成比例", "type": "percent", "unit": "%", "key": "wcbl"},
                {"field": "land", "header": "征地面积", "type": "decimal", "unit": "亩", "key": "zdmj"},
                {"field": "floor_area", "header": "建筑面积", "type": "decimal", "unit": "万平方米", "key": "jzmj"},
                {"field": "open_date", "header": "投用时间", "type": "date", "key": "tysj"},
                {"field": "inclusive", "header": "普惠性", "type": "boolean", "key": "inclusive"},
            ],
        }
    )


@pytest.fixture(scope="session")
def fixture_file() -> Callable[[str], bytes]:
    """Reads a file under tests/fixtures/drc/ (made by tests/fixtures/make_drc_fixtures.py)."""
    return lambda name: (FIXTURES / name).read_bytes()
