"""A clerk in a real browser (Playwright driving Debian's chromium): template, pre-check, correction, submission.

Screenshots of each page go to docs/screenshots/portal-*.png (the README shows them).
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from portal_client import PASSWORD
from portal_pages import HomePage, LoginPage

TITLE = "重大项目月度调度表"


def fill(template: Path, rows: list[list[object]], out: Path) -> Path:
    book = openpyxl.load_workbook(template)
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            book.active.cell(row=4 + offset, column=column, value=value)
    book.save(out)
    return out


def project(number: int, code: str | None = None) -> list[object]:
    return [code or f"2022-321002-48-01-{number:06d}", f"扬州市第{number}号道路改造工程", "基础设施", "广陵区",
            "扬州市城建集团", "在建", 10000, 2400, 200, 1400, "2022-01-15", "2022-01-20", "2023-12-31",
            "主体施工", None, None, "否"]  # fmt: skip


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    yield context.new_page()
    context.close()


def test_a_clerk_downloads_the_template_fixes_a_bad_row_and_submits(
    page, browser, live_portal, db, tmp_path, docs_screenshots
):
    screenshots = docs_screenshots / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    login = LoginPage(page, live_portal).open()
    page.screenshot(path=screenshots / "portal-login.png")
    login.log_in("clerk1", PASSWORD)

    home = HomePage(page, live_portal).open("2022-07")
    assert "市发展和改革委员会" in page.content() and TITLE in page.content()
    page.screenshot(path=screenshots / "portal-home.png", full_page=True)
    template = home.download_template(TITLE, tmp_path)
    assert template.name == "扬州市2022年1-7月重大项目月度调度表.xlsx"
    assert openpyxl.load_workbook(template).active["A1"].value == "扬州市2022年1-7月重大项目月度调度表"

    bad = fill(template, [project(1), project(2, code="2022-3210-48-01-2")], tmp_path / "bad.xlsx")
    check = home.go_check(TITLE).pre_check(bad)
    verdict = check.verdict
    assert "有数据行未通过校验" in verdict
    assert "第5行" in verdict and "项目代码" in verdict and "2022-3210-48-01-2" in verdict
    page.screenshot(path=screenshots / "portal-check.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="下载问题清单（Excel）").click()
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert workbook.sheetnames == ["待更正", "已整改"]
    assert [c.value for c in workbook["待更正"][5]][4] == 5  # the row, as the clerk's Excel numbers it

    good = fill(template, [project(1), project(2)], tmp_path / "good.xlsx")
    assert "校验通过" in check.pre_check(good).verdict
    submitted = check.submit(good).submission
    assert "报送成功" in submitted and "clerk1" in submitted
    page.screenshot(path=screenshots / "portal-submitted.png", full_page=True)
    assert db.execute(
        "select version, status, submitted_by, rows_loaded from meta.deliveries where dataset = 'drc.major_projects'"
    ).fetchall() == [(1, "accepted", "clerk1", 2)]
    HomePage(page, live_portal).open("2022-07")
    assert "已入库（第1版，clerk1报送）" in page.locator("table").first.inner_text()

    other = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 600}).new_page()
    LoginPage(other, live_portal).open().log_in("fin1", PASSWORD)
    assert "市财政局" in other.content() and TITLE not in other.content()
    answer = other.goto(f"{live_portal}/templates/drc.major_projects/xlsx?month=2022-07")
    assert answer is not None and answer.status == 403
    assert "不属于本单位" in other.content()
    assert "fin1（finance）" in other.locator("header").inner_text()  # still signed in, and shown so
    other.screenshot(path=screenshots / "portal-forbidden.png")
    other.context.close()
