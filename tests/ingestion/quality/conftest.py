"""Fixtures for the quality tests: the DRC alone, its suite with the rule pack, files dropped on given days.

The registry and the suite are copies of the repository's DRC files in a
temporary folder (``CITYDW_REGISTRY_DIR`` / ``CITYDW_EXPECTATIONS_DIR``), so
the tests see one department whatever else the registry holds, the DRC's
alerts go to a local HTTP webhook the test can read, and the DRC suite
carries the rule pack as the README tells a dataset owner to add it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from citydw.settings import get_settings

REPO = Path(__file__).resolve().parents[3]
DATASET = "drc.major_projects"
SHANGHAI = ZoneInfo("Asia/Shanghai")

RULE_PACK_EXPECTATIONS = [
    {
        "type": "expect_column_values_to_be_investment_project_code",
        "kwargs": {"column": "project_code"},
        "meta": {"severity": "row", "expected": "形如 2022-321002-48-01-123456，区划代码为有效的GB/T 2260代码"},
    },
]
RULE_PACK_CHECKS = [
    {"check": "cumulative_never_falls", "cumulative": "ytd_investment"},
    {"check": "month_equals_cumulative_change", "month": "month_investment", "cumulative": "ytd_investment"},
    {
        "check": "total_row_matches",
        "columns": ["total_investment", "annual_plan_investment", "month_investment", "ytd_investment"],
    },
    {"check": "unit_slip", "columns": ["total_investment", "annual_plan_investment"]},
    {"check": "row_count_collapse", "min_ratio": 0.5, "min_previous": 4},
]


@pytest.fixture(autouse=True)
def drc_only(tmp_path: Path, httpserver) -> Iterator[dict[str, Path]]:
    """The DRC's registry file and suite (with the rule pack) in tmp folders; its alerts go to ``/hook``."""
    registry_dir, expectations_dir = tmp_path / "registry", tmp_path / "expectations"
    registry_dir.mkdir()
    expectations_dir.mkdir()
    department = yaml.safe_load((REPO / "registry" / "drc.yaml").read_text(encoding="utf-8"))
    department["alerts"] = [{"channel": "webhook", "name": "发改委测试回调", "secret_env": "CITYDW_ALERT_TEST_HOOK"}]
    (registry_dir / "drc.yaml").write_text(yaml.safe_dump(department, allow_unicode=True), encoding="utf-8")
    suite = json.loads((REPO / "expectations" / f"{DATASET}.json").read_text(encoding="utf-8"))
    suite["expectations"] += RULE_PACK_EXPECTATIONS
    suite.setdefault("meta", {})["citydw_checks"] = RULE_PACK_CHECKS
    (expectations_dir / f"{DATASET}.json").write_text(json.dumps(suite, ensure_ascii=False), encoding="utf-8")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITYDW_REGISTRY_DIR", str(registry_dir))
        patch.setenv("CITYDW_EXPECTATIONS_DIR", str(expectations_dir))
        patch.setenv("CITYDW_ALERT_TEST_HOOK", httpserver.url_for("/hook"))
        # dbt's target folder is per test: other dbt runs on this checkout must not share it.
        patch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
        for name in ("CITYDW_ALERT_DATA_TEAM_URLS", "CITYDW_ALERT_DATA_TEAM_EMAILS"):
            patch.delenv(name, raising=False)
        get_settings.cache_clear()
        yield {"registry": registry_dir, "expectations": expectations_dir}
    get_settings.cache_clear()


@pytest.fixture
def drop(citydw_home) -> Callable[..., Path]:
    """Put a DRC file for ``month`` on the drop, arrived at ``received`` (local time), as its mtime says."""

    def put(month: date, name: str, data: bytes, received: datetime) -> Path:
        folder = Path(citydw_home) / "drop" / "drc" / "major_projects" / f"{month:%Y-%m}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(data)
        stamp = received.replace(tzinfo=received.tzinfo or SHANGHAI).timestamp()
        os.utime(path, (stamp, stamp))
        return path

    return put
