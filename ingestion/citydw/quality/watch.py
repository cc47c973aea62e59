"""The daily watch in the delivery window: pick up what arrived, chase what did not.

Each working morning from the 1st to the 20th, for the month before:

1. ingest every dataset (new files become versions; the same bytes are a
   no-op), so a delivery that came yesterday is not chased today and a
   correction closes its cases the day it passes;
2. bring the ledger and the correction cases up to date and rewrite the
   month's correction workbooks;
3. send what the day calls for (:mod:`citydw.quality.chase`): reminders
   before the due date, escalations after it, rejection and correction
   notices. The alerts module sends each problem once a month per
   recipient, so running the watch twice a day changes nothing.

The marts are not rebuilt here: the monthly DAG (and the report DAG on its
asset) does that; the watch works from ``meta``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from citydw.city import load_city
from citydw.months import parse_month, previous_month
from citydw.quality import chase, ledger, report, workbooks
from citydw.registry import load_registry
from citydw.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchResult:
    month: date
    as_of: date
    expected: int
    received: int
    accepted: int
    alerts: int
    ingested: int

    def summary(self) -> str:
        return (
            f"watch {self.month:%Y-%m} on {self.as_of}: {self.received}/{self.expected} received, "
            f"{self.accepted} accepted, {self.ingested} new versions, {self.alerts} alerts"
        )

    def to_dict(self) -> dict:
        return {
            "month": f"{self.month:%Y-%m}",
            "as_of": self.as_of.isoformat(),
            "expected": self.expected,
            "received": self.received,
            "accepted": self.accepted,
            "alerts": self.alerts,
            "ingested": self.ingested,
        }


def watch(
    as_of: date | str,
    month: date | str | None = None,
    *,
    ingest: bool = True,
    url: str | None = None,
    settings: Settings | None = None,
    send: chase.Sender | None = None,
) -> WatchResult:
    """Watch ``month`` (default: the month before ``as_of``) on the day ``as_of``."""
    from citydw.warehouse.connect import connect, prepare_warehouse, resolve_warehouse_url

    settings = settings or get_settings()
    as_of = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    month = parse_month(month) if isinstance(month, str) else (month or previous_month(as_of))
    registry = load_registry(settings.registry_path)
    city = load_city(settings.city_dir)
    url = prepare_warehouse(url or resolve_warehouse_url(settings))

    ingested = 0
    if ingest:
        from citydw.orchestration import ingest_month

        for result in ingest_month(f"{month:%Y-%m}", url=url):
            log.info(result.summary())
            ingested += result.status in ("accepted", "rejected")

    with connect(url, autocommit=True) as conn:
        cases = report.prepare_month(conn, registry, city, month)
        written = workbooks.write_workbooks(settings.reports_dir, registry, city, month, cases)
        states = ledger.delivery_states(conn, month, city.timezone)
        planned = chase.plan_chase(states, as_of, city)
        planned += chase.plan_correction_notices(cases, registry, city, month, written)
        alerts = chase.send_planned(conn, registry, planned, send=send)
    return WatchResult(
        month=month,
        as_of=as_of,
        expected=len(states),
        received=sum(s.is_received for s in states),
        accepted=sum(s.is_accepted for s in states),
        alerts=alerts,
        ingested=ingested,
    )
