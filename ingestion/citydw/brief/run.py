"""What ``citydw brief`` and the report DAG call: make the month's brief, then send it to the leaders' list."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from citydw.alerts.send import SentAlert
from citydw.brief.render import Brief, make_brief
from citydw.months import parse_month
from citydw.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class BriefRun:
    brief: Brief
    sent: list[SentAlert] = field(default_factory=list)

    def summary(self) -> str:
        if not self.sent:
            return f"{self.brief.summary()}; nothing sent"
        failed = [alert for alert in self.sent if not alert.ok]
        return f"{self.brief.summary()}; sent to {len(self.sent) - len(failed)} recipients, {len(failed)} failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.brief.to_dict(),
            "sent": sum(a.ok for a in self.sent),
            "failed": sum(not a.ok for a in self.sent),
        }


def run(month: str | date, *, url: str | None = None, settings: Settings | None = None, send: bool = True) -> BriefRun:
    """Write ``<reports>/YYYY-MM/brief/`` (index.html, brief.pdf) and, with ``send``, deliver it.

    Delivery is once per set of figures (see :mod:`citydw.brief.delivery`):
    running this again after a build that changed nothing in the brief sends
    nothing.
    """
    from citydw.warehouse.connect import connect, prepare_warehouse, resolve_warehouse_url

    settings = settings or get_settings()
    month = parse_month(month) if isinstance(month, str) else month
    url = prepare_warehouse(url or resolve_warehouse_url(settings))
    with connect(url, autocommit=True) as conn:
        brief = make_brief(month, conn=conn, settings=settings)
        result = BriefRun(brief)
        if send:
            from citydw.brief.delivery import deliver_brief

            result.sent = deliver_brief(conn, brief, settings=settings)
    log.info(result.summary())
    return result
