"""The versions of each delivery in ``meta.deliveries``.

A (dataset, month) has a history: the first file, corrections, rejected
attempts. The same bytes again are the same version; new bytes are the
next version. At most one version is *accepted* — the one in ``raw`` — and
a correction supersedes it only once it is accepted itself.

Two kinds of PostgreSQL advisory lock keep this true when several ingests
of the same (dataset, month) run at once, in one process or on several
machines:

- the *month lock* (transaction-scoped) serialises registering a version
  and deciding one, so version numbers and the accepted version never race;
- the *version lock* (session-scoped) is held by the ingest processing a
  version, from registration until its decision. A ``received`` version
  whose lock is free has no live ingest: it was killed half-way, and the
  next ingest of that month marks it rejected (interrupted). An older
  version waits for a newer one still in flight, so the newest version
  wins whatever order the loads finish in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from citydw.archive import ArchivedFile
from citydw.sources import Candidate

# A version whose decision was taken; seeing its bytes again changes nothing.
DECIDED = ("accepted", "rejected", "superseded")

# Rejections that say nothing about the bytes: the same bytes again are processed again.
RETRYABLE_REJECTIONS = ("internal_error", "interrupted")

INTERRUPTED_REASON = (
    "处理中断：处理该版本的进程在作出决定前终止，数据未入库（interrupted）；重新报送同一文件即可重新处理"
)

_COLUMNS = sql.SQL(", ").join(
    map(
        sql.Identifier, ("delivery_id", "version", "status", "status_reason", "file_name", "received_at", "archive_uri")
    )
)


@dataclass(frozen=True)
class Delivery:
    delivery_id: int
    dataset: str
    report_month: date
    version: int
    status: str
    file_name: str | None
    received_at: datetime
    status_reason: str | None = None
    archive_uri: str | None = None
    is_new: bool = False
    # Whether this connection holds the version lock, i.e. is the one ingest processing it.
    claimed: bool = False


def _month_key(dataset: str, month: date) -> str:
    return f"citydw:{dataset}:{month:%Y-%m}"


def _version_key(delivery_id: int) -> str:
    return f"citydw:delivery:{delivery_id}"


def lock_dataset_month(conn: psycopg.Connection, dataset: str, month: date) -> None:
    """Serialise work on one (dataset, month) across processes and machines until commit."""
    conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (_month_key(dataset, month),))


def try_claim(conn: psycopg.Connection, delivery_id: int) -> bool:
    """Take the version lock if no live ingest holds it; held until :func:`release`."""
    row = conn.execute("select pg_try_advisory_lock(hashtextextended(%s, 0))", (_version_key(delivery_id),)).fetchone()
    return bool(row and row[0])


def release(conn: psycopg.Connection, delivery_id: int) -> None:
    conn.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (_version_key(delivery_id),))


def wait_until_released(conn: psycopg.Connection, delivery_id: int) -> None:
    """Block until the ingest holding the version lock has decided (or died); hold nothing after."""
    key = _version_key(delivery_id)
    conn.execute("select pg_advisory_lock_shared(hashtextextended(%s, 0))", (key,))
    conn.execute("select pg_advisory_unlock_shared(hashtextextended(%s, 0))", (key,))


def is_in_flight(conn: psycopg.Connection, delivery_id: int) -> bool:
    """Whether a live ingest (another session) holds the version lock."""
    if try_claim(conn, delivery_id):
        release(conn, delivery_id)
        return False
    return True


def get(
    conn: psycopg.Connection, dataset: str, month: date, *, version: int | None = None, delivery_id: int | None = None
) -> Delivery | None:
    """One version, by number or id."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                """
            select {columns} from meta.deliveries
            where dataset = %s and report_month = %s
              and (%s::int is null or version = %s) and (%s::bigint is null or delivery_id = %s)
            """
            ).format(columns=_COLUMNS),
            (dataset, month, version, version, delivery_id, delivery_id),
        )
        row = cur.fetchone()
    return Delivery(dataset=dataset, report_month=month, **row) if row else None


def resolve_interrupted(conn: psycopg.Connection, dataset: str, month: date, keep: int | None = None) -> list[int]:
    """Mark rejected (interrupted) every ``received`` version no live ingest holds; returns their versions.

    Call inside a transaction holding the month lock. ``keep`` is the id of
    the version the caller is about to process itself.
    """
    pending = conn.execute(
        "select delivery_id, version from meta.deliveries"
        " where dataset = %s and report_month = %s and status = 'received' order by version",
        (dataset, month),
    ).fetchall()
    resolved = []
    for delivery_id, version in pending:
        if delivery_id == keep or is_in_flight(conn, delivery_id):
            continue
        reject(conn, delivery_id, INTERRUPTED_REASON, None, kind="interrupted")
        resolved.append(version)
    return resolved


def register(
    conn: psycopg.Connection, dataset: str, month: date, candidate: Candidate, archived: ArchivedFile
) -> Delivery:
    """The delivery version these bytes are: an existing one, or the next version.

    The returned version is *claimed* (this connection holds its version
    lock) when it is new, or when it was left undecided or rejected for a
    reason that is not its content and no live ingest holds it: the caller
    processes it and must :func:`release` it. Versions of the month that
    were left ``received`` by a killed ingest are resolved on the way.
    """
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        lock_dataset_month(conn, dataset, month)
        cur.execute(
            sql.SQL(
                """
            select {columns}, rejection_kind from meta.deliveries
            where dataset = %s and report_month = %s and sha256 = %s
            """
            ).format(columns=_COLUMNS),
            (dataset, month, archived.sha256),
        )
        existing = cur.fetchone()
        if existing:
            kind = existing.pop("rejection_kind")
            delivery = Delivery(dataset=dataset, report_month=month, **existing)
            again = delivery.status == "received" or (delivery.status == "rejected" and kind in RETRYABLE_REJECTIONS)
            claimed = again and try_claim(conn, delivery.delivery_id)
            resolve_interrupted(conn, dataset, month, keep=delivery.delivery_id)
            if claimed and delivery.status == "rejected":
                conn.execute(
                    "update meta.deliveries set status = 'received', status_reason = null, rejection_kind = null,"
                    " decided_at = null where delivery_id = %s",
                    (delivery.delivery_id,),
                )
                delivery = Delivery(**{**vars(delivery), "status": "received", "status_reason": None})
            return Delivery(**{**vars(delivery), "claimed": claimed})
        resolve_interrupted(conn, dataset, month)
        cur.execute(
            sql.SQL(
            """
            insert into meta.deliveries
                (dataset, report_month, version, sha256, size_bytes, source_uri, file_name,
                 archive_uri, received_at, submitted_by)
            select %s, %s, coalesce(max(version), 0) + 1, %s, %s, %s, %s, %s, %s, %s
            from meta.deliveries
            where dataset = %s and report_month = %s
            returning {columns}
            """
        ).format(columns=_COLUMNS),
            (
                dataset, month, archived.sha256, archived.size_bytes, candidate.source_uri,
                candidate.file_name, archived.uri, candidate.received_at, candidate.submitted_by, dataset, month,
            ),
        )  # fmt: skip
        row = cur.fetchone()
        assert row is not None
        claimed = try_claim(conn, row["delivery_id"])
        assert claimed, "a version just inserted cannot be held by another session"
        return Delivery(dataset=dataset, report_month=month, is_new=True, claimed=True, **row)


def newer_in_flight(conn: psycopg.Connection, delivery: Delivery) -> list[int]:
    """Ids of newer versions of the month still being processed by a live ingest."""
    newer = conn.execute(
        "select delivery_id from meta.deliveries"
        " where dataset = %s and report_month = %s and version > %s and status = 'received' order by version",
        (delivery.dataset, delivery.report_month, delivery.version),
    ).fetchall()
    return [delivery_id for (delivery_id,) in newer if is_in_flight(conn, delivery_id)]


def newer_accepted(conn: psycopg.Connection, delivery: Delivery) -> int | None:
    """The version number of a newer accepted version of the month, if there is one."""
    row = conn.execute(
        "select version from meta.deliveries"
        " where dataset = %s and report_month = %s and status = 'accepted' and version > %s",
        (delivery.dataset, delivery.report_month, delivery.version),
    ).fetchone()
    return row[0] if row else None


def reject(
    conn: psycopg.Connection,
    delivery_id: int,
    reason: str,
    rows_received: int | None,
    rows_quarantined: int = 0,
    *,
    kind: str = "content",
) -> None:
    conn.execute(
        """
        update meta.deliveries
        set status = 'rejected', status_reason = %s, rejection_kind = %s, rows_received = %s, rows_loaded = 0,
            rows_quarantined = %s, decided_at = now()
        where delivery_id = %s
        """,
        (reason, kind, rows_received, rows_quarantined, delivery_id),
    )


def supersede(conn: psycopg.Connection, delivery: Delivery, reason: str, rows_received: int | None) -> None:
    """Mark a version that lost to a newer accepted one while it was being processed."""
    conn.execute(
        """
        update meta.deliveries
        set status = 'superseded', status_reason = %s, rows_received = %s, rows_loaded = 0, decided_at = now()
        where delivery_id = %s
        """,
        (reason, rows_received, delivery.delivery_id),
    )


def accept(
    conn: psycopg.Connection,
    delivery: Delivery,
    rows_received: int,
    rows_loaded: int,
    rows_quarantined: int,
    *,
    reinstated: bool = False,
) -> int | None:
    """Mark the version accepted and the previously accepted one superseded; returns the superseded version."""
    why = f"v{delivery.version} reinstated" if reinstated else f"superseded by version {delivery.version}"
    superseded = conn.execute(
        """
        update meta.deliveries
        set status = 'superseded', status_reason = %s
        where dataset = %s and report_month = %s and status = 'accepted' and delivery_id <> %s
        returning version
        """,
        (why, delivery.dataset, delivery.report_month, delivery.delivery_id),
    ).fetchone()
    conn.execute(
        """
        update meta.deliveries
        set status = 'accepted', status_reason = %s, rejection_kind = null, rows_received = %s, rows_loaded = %s,
            rows_quarantined = %s, decided_at = now(),
            reinstated_at = case when %s then now() else reinstated_at end
        where delivery_id = %s
        """,
        (
            f"reinstated over v{superseded[0]}" if reinstated and superseded else None,
            rows_received, rows_loaded, rows_quarantined, reinstated, delivery.delivery_id,
        ),
    )  # fmt: skip
    return superseded[0] if superseded else None


def accepted_version(conn: psycopg.Connection, dataset: str, month: date) -> Delivery | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            select delivery_id, version, status, status_reason, file_name, received_at, archive_uri
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
