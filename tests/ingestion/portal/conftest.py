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
