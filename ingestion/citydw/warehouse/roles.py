"""``citydw_bi``, the read-only role BI tools connect as: its password and its database privileges.

Migration ``0002_bi_role.sql`` creates the role and its grants. Its password
cannot live in a migration (those are in the repository, and their text is
checksummed into ``meta.schema_migrations``), so it comes from
``CITYDW_BI_PASSWORD`` and is applied here after migrating. Unset, the role
keeps whatever password it has: none on a new server, so nobody can log in as
it with password authentication.

The server never sees the password itself: libpq turns it into a salted
SCRAM-SHA-256 verifier on this side, so it cannot end up in the server's log
or in ``pg_stat_activity``.

Database privileges are kept in the server's shared catalog and are not
copied with a database (``create database … template``), so they are applied
here each time a warehouse is prepared rather than in a migration:
:func:`restrict_database` takes CONNECT and TEMPORARY from PUBLIC on the
warehouse database and gives CONNECT back to ``citydw_bi`` only;
:func:`refuse_other_databases` (the embedded server, whose superuser citydw
is) takes PUBLIC's CONNECT on ``postgres`` and ``template1``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr

log = logging.getLogger(__name__)

BI_ROLE = "citydw_bi"

# ALTER ROLE takes no row lock on pg_authid: two processes changing the same
# role at once (Celery workers starting together, two databases on one
# server) make one of them fail with "tuple concurrently updated".
_ATTEMPTS = 5


class BiRoleError(RuntimeError):
    """citydw_bi's password could not be set; the message says what to do."""


def ensure_bi_password(url: str, password: SecretStr | str | None, role: str = BI_ROLE) -> bool:
    """Make ``role`` log in to the warehouse at ``url`` with ``password``; return whether it was changed.

    ``password`` unset or empty changes nothing. The password is tried first,
    so the many processes that prepare the warehouse (every Airflow task) write
    nothing to the catalog once it is set.
    """
    secret = _reveal(password)
    if not secret:
        return False
    if can_log_in(url, role, secret):
        return False
    with psycopg.connect(url, autocommit=True) as conn:
        apply_bi_password(conn, secret, role=role)
    log.info("set the password of role %s from CITYDW_BI_PASSWORD", role)
    return True


def apply_bi_password(conn: psycopg.Connection, password: SecretStr | str, role: str = BI_ROLE) -> None:
    """Set ``role``'s password on ``conn``'s server (roles are server-wide), as a SCRAM verifier.

    Runs in its own transaction, or in a savepoint of the caller's.
    """
    secret = _reveal(password)
    if not secret:
        raise ValueError(f"An empty password for {role} would let nobody in; set CITYDW_BI_PASSWORD or leave it unset.")
    verifier = conn.pgconn.encrypt_password(secret.encode(), role.encode(), b"scram-sha-256").decode("ascii")
    # ALTER ROLE takes no bind parameters: the value is composed as a quoted literal.
    statement = sql.SQL("alter role {} with password {}").format(sql.Identifier(role), sql.Literal(verifier))
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with conn.transaction():
                conn.execute(statement)
            return
        except psycopg.errors.UndefinedObject as err:
            raise BiRoleError(
                f"Role {role} does not exist on this server: migrate the warehouse first "
                "(any citydw command does, e.g. `citydw build`)."
            ) from err
        except psycopg.errors.InsufficientPrivilege as err:
            user = conn.info.user
            raise BiRoleError(
                f"User {user} may not set the password of role {role}: have an administrator run "
                f"`alter role {role} password '…'` (and unset CITYDW_BI_PASSWORD for citydw), "
                f"or grant {user} CREATEROLE and ADMIN OPTION on {role}."
            ) from err
        except psycopg.errors.InternalError_ as err:
            if "concurrently" not in str(err) or attempt == _ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)


def can_log_in(url: str, role: str, password: str) -> bool:
    """Whether ``role`` can open a session on the warehouse at ``url`` with ``password``."""
    conninfo = make_conninfo(url, user=role, password=password, connect_timeout=5, application_name="citydw")
    try:
        with psycopg.connect(conninfo):
            return True
    except psycopg.OperationalError:
        return False


def _reveal(password: SecretStr | str | None) -> str:
    if isinstance(password, SecretStr):
        return password.get_secret_value()
    return password or ""


# --- database privileges ----------------------------------------------------------------------

# PUBLIC's CONNECT or TEMPORARY on the current database, or citydw_bi's CONNECT missing.
_NEEDS_RESTRICTING = """
select exists (
           select from pg_catalog.pg_database as d,
                       aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) as acl
           where d.datname = current_database() and acl.grantee = 0
             and acl.privilege_type in ('CONNECT', 'TEMPORARY'))
       or not exists (
           select from pg_catalog.pg_database as d,
                       aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) as acl
           where d.datname = current_database() and acl.privilege_type = 'CONNECT'
             and acl.grantee = (select oid from pg_catalog.pg_roles where rolname = %s))
"""


def restrict_database(conn: psycopg.Connection, role: str = BI_ROLE) -> bool:
    """CONNECT and TEMPORARY on ``conn``'s database for its users, not for PUBLIC; CONNECT for ``role``.

    Without it every role, citydw_bi included, may connect and create
    temporary tables (PostgreSQL's default for a new database). The role
    running this (the warehouse's owner, who also runs dbt, which needs
    TEMPORARY for incremental models) keeps both. Returns whether anything
    changed; a database already restricted is only read, so the many
    processes preparing it write nothing.
    """
    needs = conn.execute(_NEEDS_RESTRICTING, (role,)).fetchone()
    if not (needs and needs[0]):
        return False
    database = sql.Identifier(conn.info.dbname)
    statements = [
        sql.SQL("grant connect, temporary on database {} to {}").format(database, sql.Identifier(conn.info.user)),
        sql.SQL("revoke connect, temporary on database {} from public").format(database),
        sql.SQL("grant connect on database {} to {}").format(database, sql.Identifier(role)),
    ]
    try:
        _in_turns(conn, statements)
    except psycopg.errors.InsufficientPrivilege:
        log.warning(
            "%s may not change the privileges of database %s: PUBLIC (and so %s) may still connect to it and "
            "create temporary tables. Have its owner run: revoke connect, temporary on database %s from public; "
            "grant connect on database %s to %s;",
            conn.info.user, conn.info.dbname, role, conn.info.dbname, conn.info.dbname, role,
        )  # fmt: skip
        return False
    log.info("database %s: CONNECT/TEMPORARY taken from PUBLIC, CONNECT granted to %s", conn.info.dbname, role)
    return True


SERVER_DATABASES = ("postgres", "template1")
"""Databases every PostgreSQL server has, which no citydw role but the owner needs to connect to."""


def refuse_other_databases(conn: psycopg.Connection) -> list[str]:
    """Take PUBLIC's CONNECT on the server's own databases; returns the ones changed.

    For a server citydw runs itself (the embedded warehouse, whose superuser
    it is). On a shared server that is the DBA's decision (README): other
    applications may rely on PUBLIC's CONNECT there.
    """
    rows = conn.execute(
        """
        select d.datname from pg_catalog.pg_database as d
        where d.datname = any(%s) and exists (
            select from aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) as acl
            where acl.grantee = 0 and acl.privilege_type in ('CONNECT', 'TEMPORARY'))
        """,
        (list(SERVER_DATABASES),),
    ).fetchall()
    changed = [name for (name,) in rows]
    _in_turns(
        conn,
        [sql.SQL("revoke connect, temporary on database {} from public").format(sql.Identifier(n)) for n in changed],
    )
    return changed


def _in_turns(conn: psycopg.Connection, statements: Sequence[sql.Composed]) -> None:
    """Run ``statements`` in one transaction, again when another process changed the same catalog row."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with conn.transaction():
                for statement in statements:
                    conn.execute(statement)
            return
        except psycopg.errors.InternalError_ as err:
            if "concurrently" not in str(err) or attempt == _ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)
