"""Migrations against a real PostgreSQL: the schemas, re-runs, edits and races."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from psycopg import sql

from citydw.warehouse import MigrationError, ensure_database, migrate, url_with_database
from citydw.warehouse.migrations import discover_migrations

SCHEMAS = {"raw", "meta", "staging", "intermediate", "marts"}


@pytest.fixture
def empty_database_url(warehouse_server_url: str) -> Iterator[str]:
    """A database with nothing in it: not copied from the migrated template."""
    name = f"citydw_test_empty_{uuid.uuid4().hex[:12]}"
    url = url_with_database(warehouse_server_url, name)
    ensure_database(url)
    yield url
    with psycopg.connect(warehouse_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _schema_snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Everything migrations create: schemas, columns, constraints, indexes, and the history."""
    with psycopg.connect(url) as conn:
        return {
            "schemas": conn.execute(
                "select nspname from pg_namespace where nspname not like 'pg\\_%' order by 1"
            ).fetchall(),
            "columns": conn.execute(
                "select table_schema, table_name, column_name, data_type, is_nullable, column_default"
                " from information_schema.columns where table_schema = any(%s) order by 1, 2, 3",
                (list(SCHEMAS),),
            ).fetchall(),
            "constraints": conn.execute(
                "select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint"
                " where connamespace = 'meta'::regnamespace order by 1, 2"
            ).fetchall(),
            "indexes": conn.execute(
                "select schemaname, indexname, indexdef from pg_indexes where schemaname = any(%s) order by 1, 2",
                (list(SCHEMAS),),
            ).fetchall(),
            "history": conn.execute(
                "select version, name, checksum, applied_at from meta.schema_migrations order by version"
            ).fetchall(),
        }


def test_migration_files_ship_with_the_package_in_order() -> None:
    migrations = discover_migrations()

    assert migrations[0].file_name == "0001_schemas_and_meta.sql"
    assert [m.version for m in migrations] == sorted({m.version for m in migrations})
    assert all(len(m.checksum) == 64 for m in migrations)


def test_migrations_create_the_five_schemas_and_record_history(empty_database_url: str) -> None:
    applied = migrate(empty_database_url)

    assert [m.file_name for m in applied] == [m.file_name for m in discover_migrations()]
    snapshot = _schema_snapshot(empty_database_url)
    assert {name for (name,) in snapshot["schemas"]} >= SCHEMAS
    assert [(v, n, c) for v, n, c, _ in snapshot["history"]] == [
        (m.version, m.name, m.checksum) for m in discover_migrations()
    ]
    tables = {(schema, table) for schema, table, *_ in snapshot["columns"]}
    assert {("meta", "deliveries"), ("meta", "quarantine"), ("meta", "schema_migrations")} <= tables


def test_migrating_twice_changes_nothing(empty_database_url: str) -> None:
    migrate(empty_database_url)
    before = _schema_snapshot(empty_database_url)

    assert migrate(empty_database_url) == []

    assert _schema_snapshot(empty_database_url) == before


def test_prepared_database_is_already_migrated(db: psycopg.Connection, warehouse_url: str) -> None:
    schemas = {name for (name,) in db.execute("select nspname from pg_namespace").fetchall()}
    assert schemas >= SCHEMAS

    assert migrate(warehouse_url) == []


def test_edited_applied_migration_is_an_error_naming_the_file(db: psycopg.Connection, warehouse_url: str) -> None:
    # What the database would record had 0001 been applied before someone edited the file.
    db.execute("update meta.schema_migrations set checksum = repeat('0', 64) where version = 1")

    with pytest.raises(MigrationError, match=r"0001_schemas_and_meta\.sql") as caught:
        migrate(warehouse_url)

    assert "new migration" in str(caught.value)


def test_workers_migrating_together_apply_each_migration_once(empty_database_url: str) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: migrate(empty_database_url), range(6)))

    applied = [m.file_name for result in results for m in result]
    assert sorted(applied) == sorted(m.file_name for m in discover_migrations())
    with psycopg.connect(empty_database_url) as conn:
        count = conn.execute("select count(*) from meta.schema_migrations").fetchone()
    assert count == (len(discover_migrations()),)
