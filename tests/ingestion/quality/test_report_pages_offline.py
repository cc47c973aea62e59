"""Every page of a month's report, in a real browser with the network cut (issue 17.6).

Chromium opens the report, the Data Docs index and each delivery version's
page from disk; every request that is not ``file://`` is aborted and
recorded. Each page must ask for nothing else, show its icons (the status
icons GX draws with an icon font it would fetch), and keep its chart labels
inside the chart. Screenshots go to ``docs/`` for the README.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from builders import drc_project, drc_workbook

from citydw.orchestration import ingest_dataset
from citydw.quality import report

SHANGHAI = ZoneInfo("Asia/Shanghai")


class OfflinePage:
    """A page opened from disk in a browser context whose network is cut; what it tried to fetch."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        self.attempted: list[str] = []
        self.context.route("**/*", self._only_files)
        self.page = self.context.new_page()

    def _only_files(self, route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.attempted.append(route.request.url)
            route.abort()

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def broken_images(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "img", "images => images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )

    def visible_status_icons(self) -> int:
        return self.page.eval_on_selector_all(
            "img.status-icon",
            "icons => icons.filter(i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width >= 12"
            " && getComputedStyle(i).visibility !== 'hidden').length",
        )

    def text_outside_svg(self) -> list[str]:
        """Texts of an SVG page that the browser draws (even partly) outside the SVG's own box."""
        return self.page.evaluate(
            """() => {
                const svg = document.documentElement, box = svg.getBoundingClientRect();
                return [...svg.querySelectorAll('text')].filter(t => {
                    const r = t.getBoundingClientRect();
                    return t.textContent.trim() && (r.left < box.left - 0.5 || r.right > box.right + 0.5
                        || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5);
                }).map(t => t.textContent);
            }"""
        )

    def close(self) -> None:
        self.context.close()


@pytest.mark.slow
def test_every_report_page_renders_its_icons_and_charts_with_the_network_cut(
    db, drop, citydw_home, browser, docs_screenshots
):
    rows = [drc_project(1), drc_project(2)]
    drop(date(2022, 6, 1), "june.xlsx", drc_workbook(rows, date(2022, 6, 1)), datetime(2022, 7, 7, 9, tzinfo=SHANGHAI))
    july = [*rows, drc_project(3, 所在地区="外省某区"), drc_project(4, **{"总投资（万元）": -1})]
    drop(date(2022, 7, 1), "july.xlsx", drc_workbook(july, date(2022, 7, 1)), datetime(2022, 8, 9, 9, tzinfo=SHANGHAI))
    for month in ("2022-06", "2022-07"):
        ingest_dataset("drc.major_projects", month)
    result = report.run("2022-07", notify=False)
    folder = result.index.parent
    version_pages = sorted((folder / "datadocs").glob("*/v*.html"))
    assert version_pages, "no Data Docs page was written"

    page = OfflinePage(browser)
    try:
        for path in [result.index, folder / "datadocs" / "index.html", *version_pages]:
            page.open(path)
            assert page.broken_images() == [], path
            if path in version_pages:
                # GX's Status column: one icon per rule, drawn from images shipped beside the page.
                assert page.visible_status_icons() >= 10, path
                assert "newsletter" not in page.page.inner_text("body").lower(), path
        page.open(version_pages[-1])
        page.page.locator("table img.status-icon").nth(2).scroll_into_view_if_needed()
        page.page.screenshot(path=str(docs_screenshots / "report-datadocs-offline.png"), full_page=False)
        page.open(result.index)
        page.page.screenshot(path=str(docs_screenshots / "report-offline.png"), full_page=True)

        charts = sorted((folder / "charts").glob("*.svg"))
        assert len(charts) == 4
        for chart in charts:
            page.open(chart)
            assert page.text_outside_svg() == [], chart.name
        page.open(folder / "charts" / "quarantine.svg")
        ticks = page.page.eval_on_selector_all(".mark-text.role-axis-label text", "ts => ts.map(t => t.textContent)")
        axis = [t for t in ticks if t.strip().isdigit()]
        assert axis and len(axis) == len(set(axis)), ticks  # whole numbers, each once: never "0 1 1"
    finally:
        page.close()
    assert page.attempted == []
