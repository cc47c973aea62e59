"""Fixtures shared by the whole suite: a real PostgreSQL, one fresh database per test.

Tests run against ``CITYDW_TEST_WAREHOUSE_URL`` when it is set (a CI service
container, a developer's server), else against an embedded server started
once per session (once per xdist worker) in a temporary home on a free port.
Each test that asks for ``warehouse_url`` gets its own empty, migrated
database, copied from a template migrated once, and dropped afterwards.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from citydw.settings import get_settings
from citydw.warehouse import EmbeddedWarehouse, WarehousePortInUseError, prepare_warehouse, url_with_database


def find_free_port() -> int:
    """A TCP port nobody listens on right now on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """Call it for a TCP port that is free at that moment."""
    return find_free_port


@pytest.fixture(scope="session")
def warehouse_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of a real PostgreSQL server whose user may create databases."""
    external = os.environ.get("CITYDW_TEST_WAREHOUSE_URL")
    if external:
        yield external
        return
    home = tmp_path_factory.mktemp("warehouse-home")
    # Another process may grab the free port before postgres binds it; try again.
    for attempt in range(3):
        # Not durable: test databases are thrown away, and fsync is most of their cost.
        server = EmbeddedWarehouse(home, port=find_free_port(), durable=False)
        try:
            url = server.up()
            break
        except WarehousePortInUseError:
            if attempt == 2:
                raise
    try:
        yield url
    finally:
        server.down()


@pytest.fixture(scope="session")
def warehouse_template(warehouse_server_url: str) -> Iterator[str]:
    """Name of a migrated database that each test's database is copied from."""
    name = f"citydw_test_template_{uuid.uuid4().hex[:8]}"
    prepare_warehouse(url_with_database(warehouse_server_url, name))
    yield name
    _drop_database(warehouse_server_url, name)


@contextmanager
def fresh_database(server_url: str, template: str) -> Iterator[str]:
    """A new migrated database copied from ``template`` while the block runs; yields its URL."""
    name = f"citydw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(template)))
    url = url_with_database(server_url, name)
    # Copied from a migrated template, so this only checks the history.
    prepare_warehouse(url)
    try:
        yield url
    finally:
        _drop_database(server_url, name)


@pytest.fixture(scope="session")
def new_database(warehouse_server_url: str, warehouse_template: str) -> Callable[[], AbstractContextManager[str]]:
    """For fixtures wider than a test: ``with new_database() as url:`` a fresh migrated database."""
    return lambda: fresh_database(warehouse_server_url, warehouse_template)


@pytest.fixture
def warehouse_url(warehouse_server_url: str, warehouse_template: str) -> Iterator[str]:
    """A fresh migrated database for this test, also set as CITYDW_WAREHOUSE_URL."""
    with fresh_database(warehouse_server_url, warehouse_template) as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITYDW_WAREHOUSE_URL", url)
        get_settings.cache_clear()
        yield url
    get_settings.cache_clear()


@pytest.fixture
def db(warehouse_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to this test's database."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        yield conn


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as admin:
        # FORCE: a connection the test forgot to close must not leave the database behind.
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(autouse=True)
def citydw_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[os.PathLike]:
    """Every test works in its own CITYDW_HOME (archive, drop, reports), never in the repo's .citydw/."""
    home = tmp_path_factory.mktemp("citydw-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITYDW_HOME", str(home))
        for variable in ("CITYDW_DROP_URL", "CITYDW_ARCHIVE_URL"):
            patch.delenv(variable, raising=False)
        get_settings.cache_clear()
        yield home
    get_settings.cache_clear()


SYSTEM_CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Debian chromium driven by Playwright (``make browser`` installs it).

    Playwright cannot download its own browsers on these machines, so it is
    pointed at the system's; ``--no-sandbox`` because CI runs as root.
    """
    if not os.access(SYSTEM_CHROMIUM, os.X_OK):
        pytest.fail(f"{SYSTEM_CHROMIUM} is missing: run `make browser` (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=SYSTEM_CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def docs_screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where browser tests save their screenshots: a temporary folder, or the repository's
    ``docs/`` (the README's pictures) with ``CITYDW_UPDATE_SCREENSHOTS=1``, so a test run
    never rewrites tracked files by accident."""
    if os.environ.get("CITYDW_UPDATE_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parents[1] / "docs"
    return tmp_path_factory.mktemp("docs")
