"""A small client of Airflow 3's REST API (``/api/v2``): what citydw asks of a running Airflow.

It talks to any Airflow 3 API server: the local cluster's, or a deployment's.
Authentication, in order: a bearer token given; a user name and password
(``POST /auth/token``); or, for a local SimpleAuthManager with
``simple_auth_manager_all_admins``, a token asked for without credentials
(``GET /auth/token``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests

TERMINAL_RUN_STATES = frozenset({"success", "failed"})


class AirflowApiError(RuntimeError):
    """The API server refused a request or could not be reached; the message says which and why."""


@dataclass
class AirflowApi:
    base_url: str
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._session = requests.Session()

    # -- plumbing ------------------------------------------------------------

    def _bearer(self) -> str:
        if self.token:
            return self.token
        if self.username:
            answer = self._session.post(
                f"{self.base_url}/auth/token",
                json={"username": self.username, "password": self.password or ""},
                timeout=self.timeout,
            )
        else:
            answer = self._session.get(f"{self.base_url}/auth/token", timeout=self.timeout)
        if answer.status_code not in (200, 201):
            raise AirflowApiError(
                f"{self.base_url} refused a token ({answer.status_code}: {answer.text[:300]}). Give a token "
                "(CITYDW_AIRFLOW_API_TOKEN) or a user (CITYDW_AIRFLOW_USERNAME / CITYDW_AIRFLOW_PASSWORD)."
            )
        self.token = str(answer.json()["access_token"])
        return self.token

    def request(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        url = f"{self.base_url}{path}"
        try:
            answer = self._session.request(
                method, url, headers={"Authorization": f"Bearer {self._bearer()}"}, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as err:
            raise AirflowApiError(f"Cannot reach the Airflow API at {self.base_url}: {err}") from err
        if answer.status_code not in ok:
            raise AirflowApiError(f"{method} {path} → {answer.status_code}: {answer.text[:1000]}")
        return answer.json() if answer.content else None

    # -- what citydw asks ------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``/api/v2/monitor/health``: metadatabase, scheduler, triggerer and DAG processor status."""
        try:
            answer = self._session.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
        except requests.RequestException as err:
            raise AirflowApiError(f"Cannot reach the Airflow API at {self.base_url}: {err}") from err
        if answer.status_code != 200:
            raise AirflowApiError(f"health → {answer.status_code}: {answer.text[:300]}")
        return dict(answer.json())

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        """The DAG as the API knows it, or None while no DAG processor has parsed it."""
        answer = self.request("GET", f"/api/v2/dags/{quote(dag_id)}", ok=(200, 404))
        return None if answer is None or "dag_id" not in answer else dict(answer)

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.request("PATCH", f"/api/v2/dags/{quote(dag_id)}", json={"is_paused": paused})

    def trigger(self, dag_id: str, logical_date: datetime | None, conf: dict[str, Any] | None = None) -> str:
        """Create a DAG run for the scheduler to run; returns its run id. No logical date: a run of "now"
        that never collides with another run's date (the report of a month, once more)."""
        run = self.request(
            "POST",
            f"/api/v2/dags/{quote(dag_id)}/dagRuns",
            json={"logical_date": logical_date.isoformat() if logical_date else None, "conf": conf or {}},
        )
        return str(run["dag_run_id"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}"))

    def dag_runs(self, dag_id: str, **filters: Any) -> list[dict[str, Any]]:
        """DAG runs, oldest logical date first; filters as the API names them (``logical_date_gte`` …)."""
        params = {"order_by": "logical_date", "limit": 100, **filters}
        return list(self.request("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns", params=params)["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of a run, mapped ones included."""
        path = f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances"
        return list(self.request("GET", path, params={"limit": 1000})["task_instances"])

    def create_backfill(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", "/api/v2/backfills", json=body))

    def dry_run_backfill(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The runs a backfill with this body would create or re-run, without creating it."""
        return list(self.request("POST", "/api/v2/backfills/dry_run", json=body)["backfills"])

    def backfill(self, backfill_id: int) -> dict[str, Any]:
        return dict(self.request("GET", f"/api/v2/backfills/{backfill_id}"))

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        timeout: float,
        poll: float = 2.0,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
    ) -> str:
        """Wait until the run succeeds or fails; returns its state. ``on_poll`` sees the run each time."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.dag_run(dag_id, run_id)
            if on_poll is not None:
                on_poll(run)
            if run["state"] in TERMINAL_RUN_STATES:
                return str(run["state"])
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id} run {run_id} still {run['state']} after {timeout:.0f} s")
            time.sleep(poll)
