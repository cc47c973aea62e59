"""Sending an alert through Apprise, once per problem, month and recipient, recorded in ``meta.alerts``.

For each route, in its own short transaction:

1. take a transaction-scoped advisory lock on (problem, month, channel,
   recipient), so two workers alerting the same problem take turns;
2. if ``meta.alerts`` already has a *sent* row for that key, skip it;
3. otherwise send through Apprise and insert one row, ``sent`` or ``failed``
   with the reason (secrets removed), and commit, which releases the lock.

The second worker therefore finds the first one's row and sends nothing; the
partial unique index ``alerts_sent_once`` backs this up at the table. A failed
row does not count as sent, so running the same step again (the next report
or chase run, or a manual ``citydw report``) retries exactly what failed. A
process killed between the send and the commit leaves no row and the alert
may go out again: at least once, never silently lost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import psycopg
from psycopg.pq import TransactionStatus

from citydw.alerts.routes import AlertConfigError, Route, apprise_url, data_team_routes, department_routes, secrets_of
from citydw.months import parse_month
from citydw.registry import Department
from citydw.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Same key space as the loader's and the migrations' advisory locks.
_LOCK_SQL = "select pg_advisory_xact_lock(hashtextextended(%s, 0))"

# Both spell the key as the unique index alerts_sent_once does, so they use it.
_ALREADY_SENT_SQL = """
select 1 from meta.alerts
where status = 'sent' and problem_key = %s
  and coalesce(report_month, date '0001-01-01') = coalesce(%s::date, date '0001-01-01')
  and channel = %s and recipient = %s
"""

_INSERT_SQL = """
insert into meta.alerts
    (problem_key, department, dataset, report_month, channel, recipient, subject, body, status, error, sent_at)
values (%(problem_key)s, %(department)s, %(dataset)s, %(report_month)s, %(channel)s, %(recipient)s,
        %(subject)s, %(body)s, %(status)s, %(error)s, case when %(status)s = 'sent' then now() end)
on conflict (problem_key, coalesce(report_month, date '0001-01-01'), channel, recipient) where status = 'sent'
do nothing
returning alert_id, attempted_at, sent_at
"""

# Errors are for operators, not a log dump.
_MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class SentAlert:
    """One attempt recorded in ``meta.alerts``."""

    alert_id: int
    problem_key: str
    report_month: date | None
    channel: str
    recipient: str
    status: Literal["sent", "failed"]
    error: str | None
    attempted_at: datetime
    sent_at: datetime | None

    @property
    def ok(self) -> bool:
        return self.status == "sent"


def send_alert(
    conn: psycopg.Connection,
    *,
    problem_key: str,
    department: str | None,
    dataset: str | None,
    report_month: date | str | None,
    subject: str,
    body: str,
    routes: Iterable[Route],
    settings: Settings | None = None,
    attachments: Sequence[Path] = (),
) -> list[SentAlert]:
    """Send one problem's alert along every route that has not had it this month; return the attempts.

    ``attachments`` (files, e.g. the brief's PDF) go with the e-mail routes only:
    chat robots take text.

    ``problem_key`` names the problem stably across runs (``"quarantine:drc.major_projects"``);
    together with the month, channel and recipient it decides what "the same
    alert" is. Routes that already got it are skipped and not returned, so a
    second call for the same problem and month returns ``[]`` and sends
    nothing. A route that fails (unreachable server, missing key) is recorded
    as ``failed`` and the other routes still go out.

    ``conn`` must not be inside a transaction: each alert is committed as soon
    as it is sent, so a rollback of the caller's work cannot erase the record
    of a message that already left.
    """
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise ValueError(
            "send_alert commits each alert as it is sent: call it on an autocommit connection "
            "or outside any open transaction"
        )
    settings = settings or get_settings()
    month = parse_month(report_month) if isinstance(report_month, str) else report_month
    if month is not None and month.day != 1:
        raise ValueError(f"report_month {month} is not the first day of a month")

    attempts = []
    for route in routes:
        with conn.transaction():
            lock_key = "\x1f".join(("citydw:alert", problem_key, str(month), route.channel, route.recipient))
            conn.execute(_LOCK_SQL, (lock_key,))
            if conn.execute(_ALREADY_SENT_SQL, (problem_key, month, route.channel, route.recipient)).fetchone():
                log.debug("alert %s %s already sent to %s %s", problem_key, month, route.channel, route.recipient)
                continue
            error = deliver(route, subject, body, settings, attachments if route.channel == "email" else ())
            status: Literal["sent", "failed"] = "failed" if error else "sent"
            record = {
                "problem_key": problem_key,
                "department": department,
                "dataset": dataset,
                "report_month": month,
                "channel": route.channel,
                "recipient": route.recipient,
                "subject": subject,
                "body": body,
                "status": status,
                "error": error,
            }
            row = conn.execute(_INSERT_SQL, record).fetchone()
        if row is None:
            # Only a writer that skipped the lock gets here; the message went out twice.
            log.warning("alert %s (%s) to %s was recorded meanwhile by another writer", problem_key, month, route)
            continue
        alert = SentAlert(row[0], problem_key, month, route.channel, route.recipient, status, error, row[1], row[2])
        if error:
            log.warning("alert %s (%s) to %s %s failed: %s", problem_key, month, route.channel, route.recipient, error)
        attempts.append(alert)
    return attempts


def alert_department(
    conn: psycopg.Connection,
    department: Department,
    *,
    problem_key: str,
    dataset: str | None,
    report_month: date | str | None,
    subject: str,
    body: str,
    settings: Settings | None = None,
) -> list[SentAlert]:
    """:func:`send_alert` along the routes of the department's registry ``alerts:``."""
    return send_alert(
        conn,
        problem_key=problem_key,
        department=department.code,
        dataset=dataset,
        report_month=report_month,
        subject=subject,
        body=body,
        routes=department_routes(department),
        settings=settings,
    )


def alert_data_team(
    conn: psycopg.Connection,
    *,
    problem_key: str,
    report_month: date | str | None,
    subject: str,
    body: str,
    dataset: str | None = None,
    settings: Settings | None = None,
) -> list[SentAlert]:
    """:func:`send_alert` to the data team (``CITYDW_ALERT_DATA_TEAM_URLS`` / ``_EMAILS``)."""
    settings = settings or get_settings()
    routes = data_team_routes(settings)
    if not routes:
        log.warning("no data-team alert routes: set CITYDW_ALERT_DATA_TEAM_URLS or CITYDW_ALERT_DATA_TEAM_EMAILS")
    return send_alert(
        conn,
        problem_key=problem_key,
        department=None,
        dataset=dataset,
        report_month=report_month,
        subject=subject,
        body=body,
        routes=routes,
        settings=settings,
    )


def deliver(route: Route, subject: str, body: str, settings: Settings, attachments: Sequence[Path] = ()) -> str | None:
    """Send one message on one route through Apprise; ``None`` when the channel accepted it, else why not.

    Records nothing: :func:`send_alert` does. The reason never contains the
    route's secrets.
    """
    try:
        url = apprise_url(route, settings)
    except AlertConfigError as error:
        return str(error)
    secrets = [*secrets_of(route, settings), url]
    # Imported here: Apprise loads its plugins on import, and the Airflow
    # failure callback's module must stay cheap to import.
    import apprise

    from citydw.alerts.robots import checked_robot

    asset = apprise.AppriseAsset(app_id="citydw", app_desc="citydw", storage_mode="memory")
    notifier = apprise.Apprise(asset=asset)
    try:
        plugin = checked_robot(url, asset)
    except ValueError as error:
        return f"the {route.channel} key or URL from {route.source} is {error}"
    if not notifier.add(plugin if plugin is not None else url):
        return f"Apprise does not accept the {route.channel} URL from {route.source}: check its form"
    try:
        result = notifier.notify(
            body=body,
            title=subject,
            body_format=apprise.NotifyFormat.TEXT,
            attach=[str(path) for path in attachments] or None,
        )
    except Exception as error:  # a plugin bug must not stop the other routes
        return _redact(f"{type(error).__name__}: {error}", secrets)
    if result:
        return None
    messages = _unique(entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL"))
    reason = "; ".join(messages) or f"Apprise reported {result.status.name}"
    return _redact(f"{route.channel} to {route.recipient}: {reason}", secrets)[:_MAX_ERROR_CHARS]


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            if len(form) >= 4:
                text = text.replace(form, "***")
    return text


def _unique(messages: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(message.strip() for message in messages if message.strip()))
