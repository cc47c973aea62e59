"""The versions of each delivery in ``meta.deliveries``.

A (dataset, month) has a history: the first file, corrections, rejected
attempts. The same bytes again are the same version; new bytes are the
next version. At most one version is *accepted* — the one in ``raw`` — and
a correction supersedes it only once it is accepted itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import psycopg
from psycopg.rows import dict_row

from citydw.archive import ArchivedFile
from citydw.sources import Candidate

# A version whose decision was taken; seeing its bytes again changes nothing.
DECIDED = ("accepted", "rejected", "superseded")


@dataclass(frozen=True)
class Delivery:
    delivery_id: int
    dataset: str
    report_month: date
    version: int
    status: str
    file_name: str | None
    received_at: datetime
    is_new: bool = False


def lock_dataset_month(conn: psycopg.Connection, dataset: str, month: date) -> None:
    """Serialise work on one (dataset, month) across processes and machines until commit."""
    conn.execute(
        "select pg_advisory_xact_lock(hashtextextended(%s, 0))",
        (f"citydw:{dataset}:{month:%Y-%m}",),
    )


def register(
    conn: psycopg.Connection, dataset: str, month: date, candidate: Candidate, archived: ArchivedFile
) -> Delivery:
    """The delivery version these bytes are: an existing one, or the next version."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        lock_dataset_month(conn, dataset, month)
        cur.execute(
            """
            select delivery_id, version, status, file_name, received_at
            from meta.deliveries
            where dataset = %s and report_month = %s and sha256 = %s
            """,
            (dataset, month, archived.sha256),
        )
        existing = cur.fetchone()
        if existing:
            return Delivery(dataset=dataset, report_month=month, **existing)
        cur.execute(
            """
            insert into meta.deliveries
                (dataset, report_month, version, sha256, size_bytes, source_uri, file_name,
                 archive_uri, received_at, submitted_by)
            select %s, %s, coalesce(max(version), 0) + 1, %s, %s, %s, %s, %s, %s, %s
            from meta.deliveries
            where dataset = %s and report_month = %s
            returning delivery_id, version, status, file_name, received_at
            """,
            (
                dataset, month, archived.sha256, archived.size_bytes, candidate.source_uri,
                candidate.file_name, archived.uri, candidate.received_at, candidate.submitted_by, dataset, month,
            ),
        )  # fmt: skip
        row = cur.fetchone()
        assert row is not None
        return Delivery(dataset=dataset, report_month=month, is_new=True, **row)


def reject(
    conn: psycopg.Connection, delivery_id: int, reason: str, rows_received: int | None, rows_quarantined: int = 0
) -> None:
    conn.execute(
        """
        update meta.deliveries
        set status = 'rejected', status_reason = %s, rows_received = %s, rows_loaded = 0,
            rows_quarantined = %s, decided_at = now()
        where delivery_id = %s
        """,
        (reason, rows_received, rows_quarantined, delivery_id),
    )


def accept(
    conn: psycopg.Connection,
    delivery: Delivery,
    rows_received: int,
    rows_loaded: int,
    rows_quarantined: int,
) -> int | None:
    """Mark the version accepted and the previously accepted one superseded; returns the superseded id."""
    superseded = conn.execute(
        """
        update meta.deliveries
        set status = 'superseded', status_reason = %s
        where dataset = %s and report_month = %s and status = 'accepted' and delivery_id <> %s
        returning delivery_id
        """,
        (f"superseded by version {delivery.version}", delivery.dataset, delivery.report_month, delivery.delivery_id),
    ).fetchone()
    conn.execute(
        """
        update meta.deliveries
        set status = 'accepted', status_reason = null, rows_received = %s, rows_loaded = %s,
            rows_quarantined = %s, decided_at = now()
        where delivery_id = %s
        """,
        (rows_received, rows_loaded, rows_quarantined, delivery.delivery_id),
    )
    return superseded[0] if superseded else None


def accepted_version(conn: psycopg.Connection, dataset: str, month: date) -> Delivery | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            select delivery_id, version, status, file_name, received_at
            from meta.deliveries
            where dataset = %s and report_month = %s and status = 'accepted'
            """,
            (dataset, month),
        )
        row = cur.fetchone()
    return Delivery(dataset=dataset, report_month=month, **row) if row else None


def record_fetch_attempt(
    conn: psycopg.Connection, dataset: str, month: date, outcome: str, detail: str | None = None
) -> None:
    conn.execute(
        "insert into meta.fetch_attempts (dataset, report_month, outcome, detail) values (%s, %s, %s, %s)",
        (dataset, month, outcome, detail),
    )
