"""Page objects of the portal: one small class per page, with the few things a clerk does there."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page


class LoginPage:
    def __init__(self, page: Page, base_url: str):
        self.page, self.base_url = page, base_url

    def open(self) -> LoginPage:
        self.page.goto(f"{self.base_url}/login")
        return self

    def log_in(self, username: str, password: str) -> HomePage:
        self.page.get_by_label("账号").fill(username)
        self.page.get_by_label("密码").fill(password)
        self.page.get_by_role("button", name="登录").click()
        return HomePage(self.page, self.base_url)


class HomePage:
    def __init__(self, page: Page, base_url: str):
        self.page, self.base_url = page, base_url

    def open(self, month: str) -> HomePage:
        self.page.goto(f"{self.base_url}/?month={month}")
        return self

    def download_template(self, title: str, folder: Path) -> Path:
        row = self.page.get_by_role("row").filter(has_text=title)
        with self.page.expect_download() as download:
            row.get_by_role("link", name="下载Excel模板").click()
        path = folder / download.value.suggested_filename
        download.value.save_as(path)
        return path

    def go_check(self, title: str) -> CheckPage:
        self.page.get_by_role("row").filter(has_text=title).get_by_role("link", name="上传预检").click()
        return CheckPage(self.page, self.base_url)


class CheckPage:
    def __init__(self, page: Page, base_url: str):
        self.page, self.base_url = page, base_url

    def choose(self, file: Path) -> CheckPage:
        self.page.get_by_label("文件").set_input_files(str(file))
        return self

    def pre_check(self, file: Path) -> CheckPage:
        self.choose(file)
        self.page.get_by_role("button", name="预检").click()
        return self

    def submit(self, file: Path) -> CheckPage:
        self.choose(file)
        self.page.get_by_role("button", name="提交报送").click()
        return self

    @property
    def verdict(self) -> str:
        return self.page.locator("#verdict").inner_text()

    @property
    def submission(self) -> str:
        return self.page.locator("#submission").inner_text()
