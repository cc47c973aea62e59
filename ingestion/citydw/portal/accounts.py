"""Clerks' accounts: argon2 password hashes, API tokens kept as their sha256, throttled logins, the audit.

An account belongs to exactly one department; everything it may see or
send follows from that. A token is shown once, when it is issued, and only
its sha256 is stored, so the accounts table lets nobody in. Failed logins
are counted in ``meta.portal_audit`` — not in a process's memory — so the
limit holds however many portal processes run.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg.rows import dict_row

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MIN_PASSWORD_LENGTH = 8
THROTTLE_MINUTES = 15
TOKEN_PREFIX = "cdp_"

_hasher = PasswordHasher()
# Verified against when the account does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("citydw-portal-no-such-account")


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    department: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def add_user(conn: psycopg.Connection, username: str, department: str, password: str) -> tuple[User, str]:
    """Create an account; returns it and its first API token (shown once, stored hashed)."""
    if not USERNAME.fullmatch(username):
        raise AccountError(f"account name {username!r}: use 1–64 letters, digits, '_', '.' or '-'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    token = new_token()
    try:
        row = conn.execute(
            """
            insert into meta.portal_users (username, department, password_hash, token_sha256, token_issued_at)
            values (%s, %s, %s, %s, now())
            returning user_id
            """,
            (username, department, _hasher.hash(password), token_digest(token)),
        ).fetchone()
    except psycopg.errors.UniqueViolation:
        raise AccountError(
            f"account {username!r} exists already; `citydw portal token {username}` issues a new token"
        ) from None
    assert row is not None
    user = User(user_id=row[0], username=username, department=department)
    audit(conn, user, "token_issued", detail="account created")
    return user, token


def issue_token(conn: psycopg.Connection, username: str) -> str:
    """A new API token for ``username``; the old one stops working at once."""
    token = new_token()
    row = conn.execute(
        """
        update meta.portal_users set token_sha256 = %s, token_issued_at = now()
        where username = %s returning user_id, department
        """,
        (token_digest(token), username),
    ).fetchone()
    if row is None:
        raise AccountError(f"no portal account {username!r}; create it with `citydw portal user add`")
    audit(conn, User(row[0], username, row[1]), "token_issued", detail="token replaced")
    return token


def user_by_id(conn: psycopg.Connection, user_id: int) -> User | None:
    row = conn.execute(
        "select user_id, username, department from meta.portal_users where user_id = %s and is_active",
        (user_id,),
    ).fetchone()
    return User(*row) if row else None


def user_by_token(conn: psycopg.Connection, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = conn.execute(
        "select user_id, username, department from meta.portal_users where token_sha256 = %s and is_active",
        (token_digest(token),),
    ).fetchone()
    # Looked up by digest, so the time taken says nothing about how much of a token was right.
    return User(*row) if row else None


def throttled(conn: psycopg.Connection, username: str, client: str | None, attempts: int) -> bool:
    """Whether logins for ``username`` (or from ``client``) are refused for now: too many recent failures."""
    # An account's failures count from its last successful login: a clerk who mistyped and then got in
    # starts afresh. A client's count ignores logins, so one good account cannot hide guessing at others.
    row = conn.execute(
        """
        select count(*) filter (
                   where username = %s
                     and at > coalesce((select max(at) from meta.portal_audit
                                        where username = %s and action = 'login'), '-infinity')),
               count(*) filter (where client is not distinct from %s)
        from meta.portal_audit
        where action = 'login_failed' and at > now() - make_interval(mins => %s)
        """,
        (username, username, client, THROTTLE_MINUTES),
    ).fetchone()
    assert row is not None
    by_account, by_client = row
    # A client may mistype several accounts' names; a guesser trying many is stopped a little later.
    return by_account >= attempts or (client is not None and by_client >= attempts * 3)


def authenticate(conn: psycopg.Connection, username: str, password: str) -> User | None:
    """The account if ``password`` is its password; None otherwise (same work either way)."""
    row = conn.execute(
        "select user_id, username, department, password_hash from meta.portal_users where username = %s and is_active",
        (username,),
    ).fetchone()
    stored = row[3] if row else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _hasher.check_needs_rehash(stored):
        conn.execute(
            "update meta.portal_users set password_hash = %s where user_id = %s", (_hasher.hash(password), row[0])
        )
    return User(row[0], row[1], row[2])


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def audit(
    conn: psycopg.Connection,
    user: User | None,
    action: str,
    *,
    username: str | None = None,
    dataset: str | None = None,
    report_month: date | None = None,
    delivery_id: int | None = None,
    client: str | None = None,
    detail: str | None = None,
) -> None:
    conn.execute(
        """
        insert into meta.portal_audit (username, department, action, dataset, report_month, delivery_id, client, detail)
        values (%s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            user.username if user else username,
            user.department if user else None,
            action,
            dataset,
            report_month,
            delivery_id,
            client,
            detail,
        ),
    )


def recent_audit(conn: psycopg.Connection, username: str, limit: int = 20) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select at, action, dataset, report_month, detail from meta.portal_audit "
            "where username = %s order by at desc limit %s",
            (username, limit),
        )
        return cur.fetchall()
