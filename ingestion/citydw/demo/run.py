"""Running the sample city's year as production would: DAG runs month by month.

File drops are read from the drop folder the generator wrote; the four API
departments are served by the demo API server from the same generation, on
a free localhost port with a token made up for this run. Each department's
URL and token reach the DAG tasks the way they would in production: as
``CITYDW_API_<DEPT>_URL`` / ``_TOKEN`` environment variables.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from citydw.settings import Settings, get_settings

API_FOLDER = "_api"
"""Folder under the drop root where the generator writes the API departments' records."""


@contextmanager
def demo_apis(settings: Settings) -> Iterator[dict[str, str]]:
    """Serve the generated API feeds while the block runs; yields department → base URL."""
    from citydw.demo.api_server import routes_from_registry, serve
    from citydw.registry import load_registry

    registry = load_registry(settings.registry_path)
    departments = sorted({s.department for s in registry.datasets.values() if s.channel.kind == "api"})
    token = secrets.token_urlsafe(24)
    server, base_url = serve(Path(settings.drop_root) / API_FOLDER, token=token, routes=routes_from_registry(registry))
    variables = {}
    for department in departments:
        variables[f"CITYDW_API_{department.upper()}_URL"] = f"{base_url}/{department}"
        variables[f"CITYDW_API_{department.upper()}_TOKEN"] = token
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    get_settings.cache_clear()
    try:
        yield {department: f"{base_url}/{department}" for department in departments}
    finally:
        server.stop()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def run_months(months: list[date], on_month: Callable[[date], None] | None = None) -> dict[date, str]:
    """Run the monthly DAG for each month in order, with the demo APIs up; month → final state."""
    from citydw import airflow_local

    settings = get_settings()
    states = {}
    with demo_apis(settings):
        for month in months:
            states[month] = airflow_local.run_month(month)
            print(f"citydw_monthly {month:%Y-%m}: {states[month]}", flush=True)
            if on_month is not None:
                on_month(month)
    return states
