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


class _MailFolder:
    """aiosmtpd handler: every message received is written as an .eml file."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd calls it by this name
        self.count += 1
        (self.folder / f"{self.count:05d}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


@contextmanager
def demo_mailbox(settings: Settings) -> Iterator[Path | None]:
    """A real SMTP server on localhost that keeps the demo's e-mail alerts as files.

    The demo's department contacts are made up, so their alerts go to
    ``<home>/demo-mail/`` instead of the world; a configured CITYDW_SMTP_HOST
    is left alone.
    """
    if settings.smtp_host:
        yield None
        return
    import socket

    from aiosmtpd.controller import Controller

    folder = settings.home_dir / "demo-mail"
    folder.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(_MailFolder(folder), hostname="127.0.0.1", port=port)
    controller.start()
    variables = {
        "CITYDW_SMTP_HOST": "127.0.0.1",
        "CITYDW_SMTP_PORT": str(port),
        "CITYDW_SMTP_SECURITY": "none",
        "CITYDW_SMTP_FROM": "citydw@demo-city.gov.cn",
    }
    os.environ.update(variables)
    get_settings.cache_clear()
    try:
        yield folder
    finally:
        controller.stop()
        for name in variables:
            os.environ.pop(name, None)
        get_settings.cache_clear()


def run_months(months: list[date], on_month: Callable[[date], None] | None = None) -> dict[date, str]:
    """Run the monthly DAG for each month in order, with the demo APIs up; month → final state.

    Airflow's, dbt's and GX's output goes to ``<home>/logs/``; the terminal shows each month's
    progress and, through ``on_month``, its verdicts.
    """
    from citydw.logfiles import logs_dir
    from citydw.progress import output_to, run_month_quietly

    settings = get_settings()
    states = {}
    # Importing the demo API server warns about its libraries' deprecations: into a log as well.
    with output_to(logs_dir(settings) / "demo-servers.log"):
        import citydw.demo.api_server  # noqa: F401
    with demo_apis(settings), demo_mailbox(settings):
        for month in months:
            outcome, _log = run_month_quietly(month, settings)
            states[month] = outcome.outcome
            if on_month is not None:
                on_month(month)
    return states
