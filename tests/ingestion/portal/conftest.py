"""A portal over a fresh warehouse, two clerks of two departments, and a way to log them in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from portal_client import PASSWORD

from citydw.portal import accounts
from citydw.portal.app import create_app
from citydw.settings import get_settings


@pytest.fixture
def clerks(db) -> dict[str, str]:
    """API tokens of clerk1 (drc) and fin1 (finance)."""
    _, drc_token = accounts.add_user(db, "clerk1", "drc", PASSWORD)
    _, finance_token = accounts.add_user(db, "fin1", "finance", PASSWORD)
    return {"clerk1": drc_token, "fin1": finance_token}


@pytest.fixture
def portal(warehouse_url, clerks, monkeypatch) -> Iterator[TestClient]:
    monkeypatch.setenv("CITYDW_PORTAL_MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    with TestClient(create_app(warehouse_url=warehouse_url), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def live_portal(warehouse_url, clerks, free_port) -> Iterator[str]:
    """The portal served by uvicorn on a free port, for a real browser; yields its base URL."""
    import threading
    import time

    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(warehouse_url=warehouse_url), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="portal", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the portal did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
