"""Running the sample city's year as production would: DAG runs month by month.

File drops are read from the drop folder the generator wrote; the four API
departments are served by the demo API server from the same generation, on
a free localhost port with a token made up for this run. Each department's
URL and token reach the DAG tasks the way they would in production: as
``CITYDW_API_<DEPT>_URL`` / ``_TOKEN`` environment variables.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from citydw.settings import Settings, get_settings

if TYPE_CHECKING:
    from citydw.pipeline import IngestResult

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


def load_year_before(months: list[date]) -> list[IngestResult]:
    """Ingest the deliveries on the year before ``months`` that the marts compare with.

    A city that adopts citydw in January loads last December's demolition
    report once: its year-to-date total is what this year is measured
    against, and no monthly run of this year asks for it. Only the datasets
    the generator writes a year-before December for (``LAST_YEAR_MONTHLY``)
    are looked for; yearly reference data comes with every monthly run.
    The other datasets of that December are waived, as the city would: the
    delivery ledger starts at the first month loaded and must not chase
    reports from before citydw.
    """
    from citydw.demo.generate import LAST_YEAR_MONTHLY
    from citydw.orchestration import ingest_month
    from citydw.quality import ledger
    from citydw.registry import load_registry
    from citydw.warehouse.connect import connect

    settings = get_settings()
    decembers = sorted({date(month.year - 1, 12, 1) for month in months} - set(months))
    results = [
        result for december in decembers for result in ingest_month(f"{december:%Y-%m}", list(LAST_YEAR_MONTHLY))
    ]
    with connect(autocommit=True) as conn:
        for december in decembers:
            for spec in ledger.chased_datasets(load_registry(settings.registry_path)):
                if spec.id in LAST_YEAR_MONTHLY:
                    continue
                with contextlib.suppress(ledger.WaiverError):  # already waived by an earlier demo run
                    ledger.waive(
                        conn,
                        spec.id,
                        december,
                        reason=f"citydw starts in {december.year + 1}-01; of {december:%Y-%m} only "
                        "last year's totals were loaded",
                        waived_by="citydw demo",
                    )
    return results


def run_months(months: list[date], on_month: Callable[[date], None] | None = None) -> dict[date, str]:
    """Run the monthly DAG for each month in order, with the demo APIs up; month → final state.

    The year before's December is loaded first (:func:`load_year_before`).
    """
    from citydw import airflow_local

    settings = get_settings()
    states = {}
    with demo_apis(settings), demo_mailbox(settings):
        for result in load_year_before(months):
            print(f"year before: {result.summary()}", flush=True)
        for month in months:
            states[month] = airflow_local.run_month(month)
            print(f"citydw_monthly {month:%Y-%m}: {states[month]}", flush=True)
            if on_month is not None:
                on_month(month)
    return states
