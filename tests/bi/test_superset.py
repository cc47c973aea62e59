"""Superset as a BI user meets it: started by citydw, the dashboards of bi/ imported, driven in chromium.

A small city is built the way tests/dbt/test_ten_questions.py builds its
year (generated deliveries for 2022-05..08 through the real pipeline, then
dbt): June lacks a delivery the generator never sends, and August is left
without the planning bureau's report, so both are provisional and July is the
latest certified month. ``citydw bi up``'s own code then installs and starts
Superset on a free port with the warehouse registered as ``citydw_bi``, and
the tests use it as a person and a BI tool would: its REST API, SQL Lab, and
each dashboard in Debian's chromium.

Screenshots go to a temporary folder; ``CITYDW_UPDATE_SCREENSHOTS=1`` writes
them to docs/screenshots/ instead (the README shows those).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
import yaml
from psycopg import sql

from citydw.bi import server
from citydw.bi.api import SupersetApi
from citydw.bi.dashboards import export_dashboards, read_files
from citydw.demo.generate import generate
from citydw.demo.run import demo_apis
from citydw.months import month_range
from citydw.orchestration import ingest_month
from citydw.quality import ledger
from citydw.registry import load_registry
from citydw.settings import get_settings
from citydw.transform import run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("superset")]

# From May: a bond allocation is idle after three reports without spending, so July has some.
MONTHS = month_range(date(2022, 5, 1), date(2022, 8, 1))
LEFT_OUT = ("nrp.spatial_plans", date(2022, 8, 1))
"""A delivery never ingested, so that the latest month is provisional."""
CERTIFIED = "2022年7月"
PROVISIONAL_LATEST = "2022年8月（临时）"
SUBJECTS = {"major-projects": "重大项目推进", "special-bonds": "专项债券",
            "livelihood-facilities": "民生设施", "data-quality": "数据质量"}  # fmt: skip


@pytest.fixture(scope="module")
def superset(new_database, tmp_path_factory: pytest.TempPathFactory, free_port) -> Iterator[SimpleNamespace]:
    """A built warehouse and a running Superset on it; ``superset.api`` is a REST session as admin."""
    home = tmp_path_factory.mktemp("superset-home")
    with new_database() as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITYDW_HOME", str(home))
        patch.setenv("CITYDW_WAREHOUSE_URL", url)
        patch.setenv("CITYDW_BI_PASSWORD", secrets.token_urlsafe(12))
        patch.setenv("CITYDW_BI_PORT", str(free_port()))
        patch.delenv("CITYDW_BI_ADMIN_PASSWORD", raising=False)  # made up and kept under the home
        for variable in ("CITYDW_DROP_URL", "CITYDW_ARCHIVE_URL", "CITYDW_BI_METADATA_URL"):
            patch.delenv(variable, raising=False)
        get_settings.cache_clear()
        settings = get_settings()
        _build_city(settings, url)
        running = server.up(settings, echo=lambda line: None)
        try:
            api = server.login(running.url, settings)
            yield SimpleNamespace(url=running.url, api=api, warehouse=url, settings=settings, running=running)
        finally:
            server.down(settings)
            get_settings.cache_clear()


def _build_city(settings, url: str) -> None:
    generate(str(settings.drop_root), MONTHS[0], MONTHS[-1], seed=2022)
    datasets = sorted(load_registry().datasets)
    with demo_apis(settings):
        for month in MONTHS:
            wanted = [d for d in datasets if (d, month) != LEFT_OUT]
            ingest_month(f"{month:%Y-%m}", wanted)
    with psycopg.connect(url, autocommit=True) as conn:
        ledger.refresh_schedule(conn, load_registry(), up_to=MONTHS[-1])
    result = run_dbt(["build"], url=url)
    assert result.success, "\n".join(result.failures)


def citydw_database(api: SupersetApi) -> dict[str, Any]:
    (database,) = [d for d in api.get("/api/v1/database/")["result"] if d["database_name"] == "citydw"]
    return database


def sql_lab(api: SupersetApi, sql: str) -> dict[str, Any]:
    """Run ``sql`` in SQL Lab on the citydw database, synchronously, as a user pressing Run does."""
    return api.post(
        "/api/v1/sqllab/execute/",
        json={
            "database_id": citydw_database(api)["id"],
            "sql": sql,
            "schema": "marts",
            "runAsync": False,
            "queryLimit": 10000,
            "client_id": secrets.token_hex(5),
        },
    )


# --- the REST API, as a BI tool or a script sees Superset ------------------------------------------------


def test_the_month_is_provisional_or_certified_as_intended(superset) -> None:
    with psycopg.connect(superset.warehouse) as conn:
        months = dict(conn.execute("select report_month, is_certified from marts.dim_report_month").fetchall())
    assert months == {date(2022, 5, 1): True, date(2022, 6, 1): False, date(2022, 7, 1): True, date(2022, 8, 1): False}


def test_the_api_lists_the_four_dashboards_and_every_chart_returns_rows(superset) -> None:
    titles = {d["dashboard_title"]: d for d in superset.api.get("/api/v1/dashboard/")["result"]}
    assert set(SUBJECTS.values()) <= set(titles)
    checked = 0
    for slug in SUBJECTS:
        for chart in superset.api.get(f"/api/v1/dashboard/{slug}/charts")["result"]:
            answer = superset.api.get(f"/api/v1/chart/{chart['id']}/data/")
            for result in answer["result"]:
                assert not result.get("error"), (chart["slice_name"], result["error"])
                assert result["rowcount"] > 0, f"{chart['slice_name']} returned no rows"
            checked += 1
    assert checked >= 24


def test_superset_reads_the_warehouse_as_citydw_bi_and_nothing_beyond_the_marts(superset) -> None:
    database = superset.api.get(f"/api/v1/database/{citydw_database(superset.api)['id']}/connection")["result"]
    assert database["sqlalchemy_uri"].startswith("postgresql://citydw_bi:")
    # Superset refuses current_user and pg_stat_activity in SQL Lab, so the session shows who it is by what it may do:
    # citydw_bi reads the marts and nothing else (the owner could use meta and create tables).
    who = sql_lab(
        superset.api,
        "select pg_has_role('citydw_bi', 'member') as is_bi_role,"
        " has_table_privilege('marts.dim_report_month', 'select') as reads_marts,"
        " has_schema_privilege('meta', 'usage') as uses_meta,"
        " has_schema_privilege('marts', 'create') as creates_in_marts",
    )
    assert who["data"] == [{"is_bi_role": True, "reads_marts": True, "uses_meta": False, "creates_in_marts": False}]
    with pytest.raises(Exception, match="permission denied"):
        sql_lab(superset.api, "select count(*) from meta.deliveries")


def ten_questions() -> list[Path]:
    return sorted((get_settings().dbt_project_path / "analyses" / "ten_questions").glob("q*.sql"))


@pytest.mark.parametrize("path", ten_questions(), ids=lambda p: p.stem)
def test_each_of_the_ten_questions_runs_unchanged_in_sql_lab(superset, path: Path) -> None:
    """The file as it is in the repository, no session setting: rows for 2022-07 among the answer."""
    answer = sql_lab(superset.api, path.read_text(encoding="utf-8"))
    assert answer["status"] == "success", answer
    months = {_month_of(row["report_month"]) for row in answer["data"]}
    assert "2022-07" in months, f"{path.name}: no rows for 2022-07 (months: {sorted(months)})"


def _month_of(value: Any) -> str:
    """``report_month`` as SQL Lab sends it: an ISO date, or epoch milliseconds."""
    if isinstance(value, int | float):
        return f"{datetime.fromtimestamp(value / 1000):%Y-%m}"
    return str(value)[:7]


def test_every_dataset_returns_the_columns_bi_declares_from_the_built_marts(superset) -> None:
    """Each dataset's SQL, run by citydw_bi on the warehouse dbt built, returns exactly the columns in bi/."""
    bi_url = server.warehouse_bi_url(superset.settings)
    folder = superset.settings.dashboards_dir / "datasets"
    with psycopg.connect(bi_url) as conn:
        for path in sorted(folder.rglob("*.yaml")):
            dataset = yaml.safe_load(path.read_text(encoding="utf-8"))
            query = sql.SQL("select * from ({}) as dataset limit 0").format(sql.SQL(dataset["sql"]))
            cursor = conn.execute(query)
            assert {c.name for c in cursor.description} == {c["column_name"] for c in dataset["columns"]}, path.name


# --- the dashboards in chromium -----------------------------------------------------------------------------

_CHARTS_STATE = """() => Array.from(document.querySelectorAll('[data-test="chart-grid-component"]')).map(chart => ({
  title: (chart.querySelector('[data-test="editable-title"]') || {}).textContent || '',
  viz: chart.getAttribute('data-test-viz-type'),
  loading: chart.querySelectorAll('[data-test="loading-indicator"]').length,
  errors: Array.from(chart.querySelectorAll('.ant-alert-error, [data-test="error-alert"], [role="alert"]'))
            .map(e => e.textContent),
  canvases: chart.querySelectorAll('.slice_container canvas').length,
  rows: Array.from(chart.querySelectorAll('.slice_container tbody tr')).map(row => row.textContent),
  number: (chart.querySelector('.header-line') || {}).textContent || null,
}))"""


class DashboardPage:
    """One dashboard as its reader uses it: open it, wait for the charts, pick a month."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self, slug: str) -> DashboardPage:
        self.page.goto(f"{self.base_url}/superset/dashboard/{slug}/")
        return self

    def charts(self) -> list[dict[str, Any]]:
        return self.page.evaluate(_CHARTS_STATE)

    def wait_for_charts(self, timeout_s: float = 180) -> list[dict[str, Any]]:
        """Wait until every chart shows what it drew (or an error) and nothing is loading, twice in a row."""
        settled_once = False
        for _ in range(int(timeout_s)):
            self.page.wait_for_timeout(1000)
            charts = self.charts()
            settled = bool(charts) and all(c["loading"] == 0 and (c["errors"] or _drew(c)) for c in charts)
            if settled and settled_once:
                return charts
            settled_once = settled
        raise AssertionError(f"charts still loading after {timeout_s:.0f} s: {self.charts()}")

    def month(self) -> str:
        return self.page.locator('[data-test="form-item-value"]').first.inner_text().strip()

    def month_options(self) -> list[str]:
        self.page.locator('[data-test="form-item-value"] .ant-select').first.click()
        options = self.page.locator(".ant-select-item-option")
        options.first.wait_for()
        found = [options.nth(i).inner_text().strip() for i in range(options.count())]
        self.page.keyboard.press("Escape")
        return found

    def choose_month(self, label: str) -> None:
        self.page.locator('[data-test="form-item-value"] .ant-select').first.click()
        self.page.locator(".ant-select-item-option", has_text=label).first.click()
        self.page.locator('[data-test="filter-bar__apply-button"]').click()

    def status_text(self) -> str:
        """What the month's status chart says (certified, or provisional and why)."""
        (status,) = [c for c in self.charts() if c["title"].startswith("数据状态")]
        return " ".join(status["rows"])

    def screenshot(self, path: Path) -> None:
        # Not full_page: resizing the window to the page makes Superset lay the grid out again, empty for a moment.
        self.page.screenshot(path=str(path))


def _drew(chart: dict[str, Any]) -> bool:
    if chart["viz"].startswith("echarts"):
        return chart["canvases"] > 0
    if chart["viz"] == "big_number_total":
        return bool(chart["number"])
    return bool(chart["rows"])


@pytest.fixture(scope="module")
def page(superset, browser) -> Iterator[Any]:
    """A logged-in page; requests for anything outside Superset are recorded in ``page.outside``."""
    context = browser.new_context(viewport={"width": 1600, "height": 2600}, locale="zh-CN")
    page = context.new_page()
    page.outside = []
    page.on(
        "request", lambda request: page.outside.append(request.url) if _outside(request.url, superset.url) else None
    )
    page.blocked = []
    page.on("requestfailed", lambda request: page.blocked.append((request.url, request.failure)))
    page.goto(f"{superset.url}/login/")
    page.fill("#username", "admin")
    page.fill("#password", (superset.settings.bi_dir / "admin-password").read_text().strip())
    page.click("[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    yield page
    context.close()


def _outside(url: str, base: str) -> bool:
    return not url.startswith((base, "data:", "blob:"))


def screenshot_folder(tmp_path_factory) -> Path:
    if os.environ.get("CITYDW_UPDATE_SCREENSHOTS") == "1":
        folder = get_settings().project_dir / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


@pytest.mark.parametrize("slug", list(SUBJECTS))
def test_each_dashboard_renders_every_chart_for_the_latest_certified_month(
    superset, page, slug: str, tmp_path_factory
) -> None:
    dashboard = DashboardPage(page, superset.url).open(slug)
    charts = dashboard.wait_for_charts()
    assert page.locator('[data-test="dashboard-header-container"]').inner_text().startswith(SUBJECTS[slug])
    assert len(charts) >= 6
    assert [c for c in charts if c["errors"]] == []
    assert all(_drew(c) for c in charts), [c["title"] for c in charts if not _drew(c)]
    # The default is the latest certified month, not the latest month; provisional months say so.
    assert dashboard.month() == CERTIFIED
    assert "已认证" in dashboard.status_text()
    # Before the filter is touched: an open filter highlights the charts it applies to.
    dashboard.screenshot(screenshot_folder(tmp_path_factory) / f"bi-{slug}.png")
    assert dashboard.month_options()[:2] == [CERTIFIED, PROVISIONAL_LATEST]


def test_the_month_filter_changes_what_the_charts_show(superset, page) -> None:
    dashboard = DashboardPage(page, superset.url).open("data-quality")
    before = {c["title"]: c for c in dashboard.wait_for_charts()}
    dashboard.choose_month(PROVISIONAL_LATEST)
    page.wait_for_timeout(1000)
    after = {c["title"]: c for c in dashboard.wait_for_charts()}
    assert dashboard.month() == PROVISIONAL_LATEST
    assert "临时数据" in dashboard.status_text()
    # August lacks the planning bureau's report: the ledger's table and its 未报送 count say so.
    assert after["未报送"]["number"] != before["未报送"]["number"]
    assert any("未报送" in row for row in after["本月各报表报送情况"]["rows"])
    assert not any("未报送" in row for row in before["本月各报表报送情况"]["rows"])


def test_nothing_is_fetched_from_outside_superset(superset, page) -> None:
    """Government networks: the published frontend's telemetry pixel, tiles and fonts are refused by the CSP."""
    DashboardPage(page, superset.url).open("special-bonds").wait_for_charts()
    answered_from_outside = [url for url in page.outside if url not in {u for u, _ in page.blocked}]
    assert answered_from_outside == []
    # Chromium names a request its content security policy refused "csp": it never reached the network.
    refused = [(url, failure) for url, failure in page.blocked if _outside(url, superset.url)]
    assert all(failure == "csp" for _, failure in refused), refused


def test_a_chart_changed_in_superset_is_written_back_to_bi_by_export(superset, tmp_path: Path) -> None:
    """`citydw bi export`: what Superset holds goes back to the same files of bi/, a change and nothing else."""
    folder = tmp_path / "bi"
    shutil.copytree(superset.settings.dashboards_dir, folder)
    (chart,) = [
        c for c in superset.api.get("/api/v1/chart/", q="(page_size:100)")["result"] if c["slice_name"] == "闲置资金"
    ]
    superset.api.put(f"/api/v1/chart/{chart['id']}", json={"slice_name": "闲置专项债券资金"})
    try:
        export_dashboards(superset.api, folder)
    finally:
        superset.api.put(f"/api/v1/chart/{chart['id']}", json={"slice_name": "闲置资金"})
    before, after = read_files(superset.settings.dashboards_dir), read_files(folder)
    assert set(after) == set(before)  # files keep their names: matched by uuid
    changed = [name for name in before if before[name] != after[name]]
    assert after["charts/闲置资金.yaml"]["slice_name"] == "闲置专项债券资金"
    for name in before:
        if name.startswith("datasets/"):
            assert after[name]["sql"] == before[name]["sql"], name
    assert "charts/闲置资金.yaml" in changed
    assert after["databases/citydw.yaml"]["sqlalchemy_uri"] == before["databases/citydw.yaml"]["sqlalchemy_uri"]
