"""The warehouse's schema, built by numbered SQL migrations.

``migrations/NNNN_name.sql`` files ship inside the package and are applied in
order, each in its own transaction together with its row in
``meta.schema_migrations``, so a failed migration leaves no trace. Applied
migrations are append-only: their checksum is recorded, and editing one
afterwards is an error — add a new migration instead.

Several processes may migrate the same database at once (Celery workers
starting together); a transaction-scoped advisory lock makes them take turns
and the ones that come second find nothing left to do.

Migration files must not contain transaction control (``begin``/``commit``)
or statements that cannot run in a transaction (``create index concurrently``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

log = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "citydw.warehouse"
MIGRATIONS_FOLDER = "migrations"
_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

# One key for every citydw process, in the same key space as the loader's
# per-(dataset, month) locks; advisory locks are per database.
_LOCK_SQL = "select pg_advisory_xact_lock(hashtextextended('citydw:schema_migrations', 0))"

_BOOTSTRAP_SQL = """
create schema if not exists meta;
create table if not exists meta.schema_migrations (
    version    integer     primary key,
    name       text        not null,
    checksum   text        not null,
    applied_at timestamptz not null default now()
);
comment on table meta.schema_migrations is
    'One row per applied migration file (ingestion/citydw/warehouse/migrations); written by citydw only.';
"""


class MigrationError(RuntimeError):
    """The warehouse's migration history and the package's migration files disagree."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    file_name: str
    sql: str

    @property
    def checksum(self) -> str:
        # Line endings normalised: a Windows checkout is not an edit.
        return hashlib.sha256(self.sql.replace("\r\n", "\n").encode()).hexdigest()


def discover_migrations() -> list[Migration]:
    """The package's migration files, in version order."""
    folder = resources.files(MIGRATIONS_PACKAGE).joinpath(MIGRATIONS_FOLDER)
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(
                f"Migration file {entry.name} is not named NNNN_lowercase_name.sql; rename it, e.g. 0002_add_x.sql."
            )
        version = int(match["version"])
        if version in found:
            raise MigrationError(
                f"Migrations {found[version].file_name} and {entry.name} share version {version:04d}; "
                "renumber the newer one."
            )
        found[version] = Migration(version, match["name"], entry.name, entry.read_text(encoding="utf-8"))
    return [found[version] for version in sorted(found)]


def migrate(url: str) -> list[Migration]:
    """Apply the package's pending migrations to the database at ``url``; return those applied.

    Re-running is a no-op. Raises :class:`MigrationError` if an applied
    migration's file changed since.
    """
    migrations = discover_migrations()
    applied_now: list[Migration] = []
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.transaction():
            conn.execute(_LOCK_SQL)
            conn.execute(_BOOTSTRAP_SQL)
            applied = _applied_checksums(conn)
            _check_history(applied, migrations)
            _warn_unknown(applied, migrations)
        for migration in migrations:
            # One transaction per migration, so migrations that succeeded stay
            # applied when a later one fails, and the lock is held briefly.
            with conn.transaction():
                conn.execute(_LOCK_SQL)
                applied = _applied_checksums(conn)
                if migration.version in applied:
                    _check_history(applied, [migration])  # applied by a process that raced us
                    continue
                log.info("applying migration %s", migration.file_name)
                try:
                    conn.execute(migration.sql)
                except psycopg.Error as err:
                    raise MigrationError(f"Migration {migration.file_name} failed: {err}".strip()) from err
                conn.execute(
                    "insert into meta.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
                applied_now.append(migration)
    return applied_now


def _applied_checksums(conn: psycopg.Connection) -> dict[int, tuple[str, str]]:
    rows = conn.execute("select version, name, checksum from meta.schema_migrations").fetchall()
    return {version: (name, checksum) for version, name, checksum in rows}


def _check_history(applied: dict[int, tuple[str, str]], migrations: list[Migration]) -> None:
    """Fail if a migration file differs from the one applied under its version."""
    for migration in migrations:
        if migration.version not in applied:
            continue
        name, checksum = applied[migration.version]
        if (name, checksum) != (migration.name, migration.checksum):
            raise MigrationError(
                f"Migration {migration.file_name} was changed after it was applied to this warehouse "
                f"(applied as {migration.version:04d}_{name}.sql, checksum {checksum[:12]}…; "
                f"the file's is now {migration.checksum[:12]}…). Applied migrations are append-only: "
                f"restore the file and put the change in a new migration numbered after the last one."
            )


def _warn_unknown(applied: dict[int, tuple[str, str]], migrations: list[Migration]) -> None:
    # A newer citydw migrated this warehouse while an older worker still runs: not fatal.
    known = {migration.version for migration in migrations}
    if unknown := sorted(set(applied) - known):
        log.warning("the warehouse has migrations this citydw does not know: %s", unknown)
