"""Finding, creating and connecting to the warehouse a URL names."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from urllib.parse import quote, urlsplit

import psycopg
import pytest
from psycopg import sql

from citydw.settings import get_settings
from citydw.warehouse import (
    WarehouseConnectionError,
    connect,
    dbt_env,
    redact_url,
    resolve_warehouse_url,
    url_with_database,
)


@pytest.fixture
def unused_database_url(warehouse_server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """CITYDW_WAREHOUSE_URL naming a database that does not exist yet."""
    name = f"citydw_test_new_{uuid.uuid4().hex[:12]}"
    url = url_with_database(warehouse_server_url, name)
    monkeypatch.setenv("CITYDW_WAREHOUSE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    with psycopg.connect(warehouse_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def test_new_database_in_url_is_created_and_migrated_on_first_use(unused_database_url: str) -> None:
    assert resolve_warehouse_url() == unused_database_url

    with connect() as conn:
        database = conn.execute("select current_database()").fetchone()
        schemas = {name for (name,) in conn.execute("select nspname from pg_namespace").fetchall()}
        history = conn.execute("select count(*) > 0 from meta.schema_migrations").fetchone()

    assert database == (unused_database_url.rsplit("/", 1)[1],)
    assert {"raw", "meta", "staging", "intermediate", "marts"} <= schemas
    assert history == (True,)


def test_warehouse_url_fixture_sets_the_environment(warehouse_url: str) -> None:
    assert get_settings().warehouse_url == warehouse_url

    with connect(autocommit=True) as conn:
        assert conn.autocommit
        assert conn.execute("select to_regclass('meta.deliveries') is not null").fetchone() == (True,)


def test_dbt_env_decodes_percent_encoded_credentials() -> None:
    url = "postgresql://dw%40ops:p%40ss%2Fw%3Ard%25%20x@db.city.gov.cn:6543/city%20dw?sslmode=verify-full"

    assert dbt_env(url) == {
        "CITYDW_PG_HOST": "db.city.gov.cn",
        "CITYDW_PG_PORT": "6543",
        "CITYDW_PG_USER": "dw@ops",
        "CITYDW_PG_PASSWORD": "p@ss/w:rd% x",
        "CITYDW_PG_DBNAME": "city dw",
        "CITYDW_PG_SSLMODE": "verify-full",
    }


def test_dbt_env_takes_a_unix_socket_folder_as_host() -> None:
    env = dbt_env("postgresql://citydw@/citydw?host=/var/run/postgresql")

    assert env["CITYDW_PG_HOST"] == "/var/run/postgresql"
    assert env["CITYDW_PG_PORT"] == "5432"
    assert env["CITYDW_PG_PASSWORD"] == ""
    assert "CITYDW_PG_SSLMODE" not in env


def test_dbt_env_connects_with_an_awkward_password(db: psycopg.Connection, warehouse_url: str) -> None:
    role, password = f"dbt_{uuid.uuid4().hex[:8]}", "p@ss/w:rd%?#&x"
    db.execute(sql.SQL("create role {} login password {}").format(sql.Identifier(role), sql.Literal(password)))
    # PUBLIC may not connect to a warehouse database (citydw.warehouse.roles): a new role is granted it.
    database = sql.Identifier(db.info.dbname)
    db.execute(sql.SQL("grant connect on database {} to {}").format(database, sql.Identifier(role)))
    try:
        server = urlsplit(warehouse_url)
        url = f"postgresql://{role}:{quote(password, safe='')}@{server.hostname}:{server.port}{server.path}"
        env = dbt_env(url)
        assert env["CITYDW_PG_PASSWORD"] == password

        with psycopg.connect(
            host=env["CITYDW_PG_HOST"],
            port=env["CITYDW_PG_PORT"],
            user=env["CITYDW_PG_USER"],
            password=env["CITYDW_PG_PASSWORD"],
            dbname=env["CITYDW_PG_DBNAME"],
        ) as conn:
            assert conn.execute("select current_user").fetchone() == (role,)
        with connect(url) as conn:
            assert conn.execute("select current_user").fetchone() == (role,)
    finally:
        db.execute(sql.SQL("revoke connect on database {} from {}").format(database, sql.Identifier(role)))
        db.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_url_with_database_keeps_credentials_and_options() -> None:
    url = "postgresql://u:p%40w@h:5433/old?sslmode=require"

    assert url_with_database(url, "new db") == "postgresql://u:p%40w@h:5433/new%20db?sslmode=require"
    assert redact_url(url) == "postgresql://u:***@h:5433/old?sslmode=require"


def test_unreachable_warehouse_error_says_what_to_check(free_port: Callable[[], int]) -> None:
    url = f"postgresql://citydw:topsecret@127.0.0.1:{free_port()}/citydw"

    with pytest.raises(WarehouseConnectionError) as caught:
        connect(url)

    assert "CITYDW_WAREHOUSE_URL" in str(caught.value)
    assert "topsecret" not in str(caught.value)
