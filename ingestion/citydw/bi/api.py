"""A small client of Superset's REST API: what citydw and its tests do as a logged-in admin."""

from __future__ import annotations

import time
from typing import Any

import requests


class SupersetApiError(RuntimeError):
    """Superset answered with an error; the message carries its answer."""


class SupersetApi:
    """A session logged in to Superset at ``base_url`` (JWT for the API, a CSRF token for forms)."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 120) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        token = self._call(
            "POST",
            "/api/v1/security/login",
            json={
                "username": username,
                "password": password,
                "provider": "db",
                "refresh": False,
            },
        )["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        csrf = self._call("GET", "/api/v1/security/csrf_token/")["result"]
        # Superset checks the CSRF token of form posts (imports) and, over plain HTTP, the referrer.
        self.session.headers.update({"X-CSRFToken": csrf, "Referer": self.base_url})

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params=params or None)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self._call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self._call("PUT", path, **kwargs)

    def download(self, path: str, **params: Any) -> bytes:
        response = self.session.get(self.base_url + path, params=params or None, timeout=self.timeout)
        _raise_for(response, path)
        return response.content

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        _raise_for(response, path)
        return response.json() if response.content else None


def _raise_for(response: requests.Response, path: str) -> None:
    if response.status_code >= 400:
        raise SupersetApiError(f"Superset answered {response.status_code} to {path}: {response.text[:2000]}")


def wait_until_healthy(base_url: str, timeout: float, is_alive: Any = None) -> bool:
    """Poll ``/health`` until Superset answers OK; returns False on timeout or when ``is_alive()`` turns false."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_alive is not None and not is_alive():
            return False
        try:
            if requests.get(f"{base_url}/health", timeout=5).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(1)
    return False
