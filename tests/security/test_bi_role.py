"""citydw_bi, the BI tools' role: it reads marts, including tables dbt creates later, and nothing else.

Every test connects as citydw_bi over TCP with the password applied from
CITYDW_BI_PASSWORD, against a real PostgreSQL (tests/conftest.py). The role
is server-wide and test databases share a server, so every test sets the
same password: one derived from the server's URL, never a literal.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from unittest import mock

import psycopg
import pytest
import yaml
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from citydw.settings import get_settings
from citydw.warehouse import prepare_warehouse, url_with_database
from citydw.warehouse.roles import BI_ROLE, apply_bi_password, can_log_in, ensure_bi_password

REPO = Path(__file__).resolve().parents[2]

# Column names that would carry a contact's phone number or e-mail address.
_CONTACT_WORDS = {"phone", "telephone", "tel", "mobile", "cellphone", "email", "mail", "fax", "wechat"}
_CONTACT_CHINESE = re.compile(r"电话|手机|邮箱|邮件|传真|微信|联系方式")


def is_contact_column(name: str) -> bool:
    words = set(re.split(r"[^a-z0-9]+", name.lower()))
    return bool(words & _CONTACT_WORDS) or "e_mail" in name.lower() or bool(_CONTACT_CHINESE.search(name))


@pytest.fixture
def bi_password(warehouse_server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """CITYDW_BI_PASSWORD for this test, the same for every test on this server."""
    password = hashlib.sha256(f"citydw-bi-test|{warehouse_server_url}".encode()).hexdigest()[:32]
    monkeypatch.setenv("CITYDW_BI_PASSWORD", password)
    get_settings.cache_clear()
    yield password
    get_settings.cache_clear()


@pytest.fixture
def later_tables(db: psycopg.Connection) -> None:
    """What the warehouse holds after ingest and dbt: tables made by the owner after migrating."""
    db.execute("""
        create table raw.drc__secret_plans (project_code text, report_month date);
        insert into raw.drc__secret_plans values ('P1', '2022-07-01');
        create table staging.stg_later (x int);
        create table intermediate.int_later (x int);
        create table public.later (x int);
        create table marts.fct_later (project_code text, month_investment_wan numeric);
        insert into marts.fct_later values ('P1', 12.5);
        create view marts.v_later as select project_code from marts.fct_later;
    """)


@pytest.fixture
def bi(warehouse_url: str, bi_password: str, later_tables: None) -> Iterator[psycopg.Connection]:
    """An autocommit session as citydw_bi, its password applied from the environment.

    The role's sessions are read-only by default; this one turns that off, so
    the tests prove the privileges themselves, not the session setting.
    """
    ensure_bi_password(warehouse_url, get_settings().bi_password)
    with psycopg.connect(bi_url(warehouse_url, bi_password), autocommit=True) as conn:
        conn.execute("set default_transaction_read_only = off")
        yield conn


def bi_url(warehouse_url: str, password: str) -> str:
    return make_conninfo(warehouse_url, user=BI_ROLE, password=password)


def test_bi_reads_tables_and_views_created_in_marts_after_the_migration(bi: psycopg.Connection) -> None:
    assert bi.execute("select project_code, month_investment_wan from marts.fct_later").fetchall() == [
        ("P1", Decimal("12.5"))
    ]
    assert bi.execute("select project_code from marts.v_later").fetchall() == [("P1",)]


@pytest.mark.parametrize(
    "relation",
    [
        "raw.drc__secret_plans",
        "meta.deliveries",
        "meta.quarantine",
        "meta.schema_migrations",
        "staging.stg_later",
        "intermediate.int_later",
        "public.later",
    ],
)
def test_bi_is_refused_outside_marts(bi: psycopg.Connection, relation: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        bi.execute(sql.SQL("select * from {}").format(sql.Identifier(*relation.split("."))))


@pytest.mark.parametrize(
    "statement",
    [
        "insert into marts.fct_later values ('P2', 1)",
        "update marts.fct_later set month_investment_wan = 0",
        "delete from marts.fct_later",
        "truncate marts.fct_later",
        "copy marts.fct_later from stdin",
        "alter table marts.fct_later add column x int",
        "drop table marts.fct_later",
        "create table marts.mine (x int)",
        "create view marts.mine as select 1 as x",
        "insert into meta.deliveries default values",
        "create table raw.mine (x int)",
        "create table public.mine (x int)",
        "create schema mine",
    ],
)
def test_bi_cannot_write_anywhere(bi: psycopg.Connection, statement: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        bi.execute(statement)


def test_bi_sees_no_schema_but_marts(bi: psycopg.Connection) -> None:
    visible = bi.execute(
        "select distinct table_schema from information_schema.tables "
        "where table_schema not in ('pg_catalog', 'information_schema')"
    ).fetchall()
    assert visible == [("marts",)]
    for schema in ("raw", "meta", "staging", "intermediate"):
        assert bi.execute("select has_schema_privilege(%s, 'usage')", (schema,)).fetchone() == (False,)
    assert bi.execute("select has_schema_privilege('public', 'create')").fetchone() == (False,)


def test_bi_sessions_are_read_only_by_default(warehouse_url: str, bi_password: str, later_tables: None) -> None:
    ensure_bi_password(warehouse_url, get_settings().bi_password)
    with psycopg.connect(bi_url(warehouse_url, bi_password), autocommit=True) as conn:
        assert conn.execute("show default_transaction_read_only").fetchone() == ("on",)
        with pytest.raises(errors.ReadOnlySqlTransaction):
            conn.execute("create temporary table scratch (x int)")


def test_bi_creates_no_large_object_even_in_a_read_write_transaction(
    bi: psycopg.Connection, db: psycopg.Connection
) -> None:
    """A large object persists outside any table: creating one is writing (issue 18.2)."""
    before = db.execute("select count(*) from pg_largeobject_metadata").fetchone()
    for create in ("select lo_from_bytea(0, '\\x00'::bytea)", "select lo_create(0)", "select lo_creat(-1)"):
        with pytest.raises(errors.InsufficientPrivilege), bi.transaction():
            bi.execute("set transaction read write")
            bi.execute(create)
    assert db.execute("select count(*) from pg_largeobject_metadata").fetchone() == before
    # The owner, who migrated the warehouse, still may.
    assert db.execute("select lo_unlink(lo_from_bytea(0, '\\x00'::bytea))").fetchone() == (1,)


def test_bi_cannot_create_temporary_tables(bi: psycopg.Connection) -> None:
    with pytest.raises(errors.InsufficientPrivilege), bi.transaction():
        bi.execute("set transaction read write")
        bi.execute("create temporary table scratch (x int)")
    assert bi.execute("select has_database_privilege(current_database(), 'temporary')").fetchone() == (False,)


@pytest.mark.parametrize("database", ["postgres", "template1"])
def test_bi_may_connect_to_the_warehouse_database_only(
    bi: psycopg.Connection, warehouse_url: str, bi_password: str, database: str
) -> None:
    assert bi.execute("select current_database()").fetchone() == (conninfo_to_dict(warehouse_url)["dbname"],)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(bi_url(url_with_database(warehouse_url, database), bi_password)).close()


def test_another_database_on_the_server_made_later_refuses_bi_once_citydw_prepares_it(
    warehouse_server_url: str, warehouse_url: str, bi_password: str
) -> None:
    """A database copied from a warehouse has PostgreSQL's default privileges again until prepared."""
    name = f"citydw_test_copy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("create database {} template {}").format(
                sql.Identifier(name), sql.Identifier(conninfo_to_dict(warehouse_url)["dbname"])
            )
        )
    copy = url_with_database(warehouse_server_url, name)
    try:
        prepare_warehouse(copy)
        with (
            psycopg.connect(bi_url(copy, bi_password), autocommit=True) as conn,
            pytest.raises(errors.InsufficientPrivilege),
            conn.transaction(),
        ):
            conn.execute("set transaction read write")
            conn.execute("create temporary table scratch (x int)")
    finally:
        _drop_database(warehouse_server_url, copy)


def test_bi_sees_raw_and_meta_tables_only_as_far_as_postgresql_cannot_hide_them(bi: psycopg.Connection) -> None:
    """information_schema and every privilege check hide raw/meta; pg_catalog lists every name (README)."""
    hidden = bi.execute(
        "select count(*) from information_schema.columns where table_schema in ('raw', 'meta')"
    ).fetchone()
    assert hidden == (0,)
    for relation in ("meta.deliveries", "raw.drc__secret_plans"):
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied for schema"):
            bi.execute("select %s::regclass", (relation,))


def test_bi_role_has_no_power_beyond_logging_in(db: psycopg.Connection) -> None:
    row = db.execute(
        "select rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
        "from pg_roles where rolname = %s",
        (BI_ROLE,),
    ).fetchone()
    assert row == (True, False, False, False, False, False)
    memberships = db.execute(
        "select count(*) from pg_auth_members m join pg_roles r on r.oid = m.member where r.rolname = %s", (BI_ROLE,)
    ).fetchone()
    assert memberships == (0,)


def test_a_wrong_password_is_refused(warehouse_url: str, bi_password: str) -> None:
    ensure_bi_password(warehouse_url, get_settings().bi_password)
    assert can_log_in(warehouse_url, BI_ROLE, bi_password)
    assert not can_log_in(warehouse_url, BI_ROLE, bi_password + "x")


def test_an_unset_password_changes_nothing(warehouse_url: str, bi_password: str, monkeypatch) -> None:
    ensure_bi_password(warehouse_url, get_settings().bi_password)
    monkeypatch.delenv("CITYDW_BI_PASSWORD")
    get_settings.cache_clear()
    assert get_settings().bi_password is None
    assert ensure_bi_password(warehouse_url, get_settings().bi_password) is False
    assert can_log_in(warehouse_url, BI_ROLE, bi_password)


def test_a_password_already_in_place_is_not_written_again(warehouse_url: str, bi_password: str) -> None:
    ensure_bi_password(warehouse_url, get_settings().bi_password)
    assert ensure_bi_password(warehouse_url, get_settings().bi_password) is False


def test_awkward_passwords_are_quoted_and_only_a_scram_verifier_reaches_the_server(
    db: psycopg.Connection, warehouse_url: str
) -> None:
    # A role of its own: citydw_bi's password is shared by the tests on this server.
    role = f"citydw_bi_test_{uuid.uuid4().hex[:8]}"
    awkward = "it's a \\ back'slash; drop role citydw_bi; --" + uuid.uuid4().hex
    database = sql.Identifier(db.info.dbname)
    db.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
    # PUBLIC may not connect to a warehouse: a role of its own needs CONNECT to log in.
    db.execute(sql.SQL("grant connect on database {} to {}").format(database, sql.Identifier(role)))
    try:
        apply_bi_password(db, awkward, role=role)
        assert can_log_in(warehouse_url, role, awkward)
        if db.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (True,):
            stored = db.execute("select rolpassword from pg_authid where rolname = %s", (role,)).fetchone()
            assert stored is not None and stored[0].startswith("SCRAM-SHA-256$") and awkward not in stored[0]
    finally:
        db.execute(sql.SQL("revoke connect on database {} from {}").format(database, sql.Identifier(role)))
        db.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_two_databases_on_one_server_both_migrate_and_both_serve_bi(
    warehouse_server_url: str, warehouse_url: str, bi_password: str
) -> None:
    """The role is the server's: the second database's migration finds it and still grants its own marts."""
    second = url_with_database(warehouse_server_url, f"citydw_test_second_{uuid.uuid4().hex[:8]}")
    try:
        prepare_warehouse(second)
        ensure_bi_password(second, get_settings().bi_password)
        for url in (warehouse_url, second):
            with psycopg.connect(url, autocommit=True) as owner:
                owner.execute("create table marts.later (x int); insert into marts.later values (1)")
            with psycopg.connect(bi_url(url, bi_password)) as conn:
                assert conn.execute("select x from marts.later").fetchall() == [(1,)]
    finally:
        _drop_database(warehouse_server_url, second)


def test_preparing_a_warehouse_applies_the_password_from_the_environment(
    warehouse_server_url: str, bi_password: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Watched rather than reset first: the role's password is shared by the tests on this server.
    from citydw.warehouse import connect, roles

    calls = []

    def watched(url: str, password, role: str = BI_ROLE) -> bool:
        calls.append((url, password.get_secret_value() if password is not None else None))
        return ensure_bi_password(url, password, role)

    monkeypatch.setattr(roles, "ensure_bi_password", watched)
    if hasattr(connect, "ensure_bi_password"):
        monkeypatch.setattr(connect, "ensure_bi_password", watched)
    # A database of its own: prepare_warehouse does its work once per process and URL.
    url = url_with_database(warehouse_server_url, f"citydw_test_hook_{uuid.uuid4().hex[:8]}")
    try:
        prepare_warehouse(url)
        assert calls == [(url, bi_password)]
        assert can_log_in(url, BI_ROLE, bi_password)
    finally:
        _drop_database(warehouse_server_url, url)


@pytest.mark.slow
def test_bi_reads_every_mart_dbt_builds_and_none_carries_contact_details(
    warehouse_url: str, bi_password: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from citydw.transform import run_dbt

    monkeypatch.setenv("CITYDW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))  # not the shared dbt_project/target
    get_settings.cache_clear()
    with mock.patch.dict(os.environ):  # dbt's CITYDW_PG_* variables stay in this test
        # Seeds and models only: dbt's own tests are not what this test is about.
        outcome = run_dbt(["build", "--exclude-resource-type", "test", "unit_test"], url=warehouse_url)
    assert outcome.success, outcome.failures
    ensure_bi_password(warehouse_url, get_settings().bi_password)
    with psycopg.connect(bi_url(warehouse_url, bi_password)) as conn:
        marts = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        assert ("fct_project_progress_monthly",) in marts and ("dim_district",) in marts
        for (table,) in marts:
            conn.execute(sql.SQL("select count(*) from marts.{}").format(sql.Identifier(table))).fetchone()
        columns = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema not in ('pg_catalog', 'information_schema')"
        ).fetchall()
    assert {schema for schema, _, _ in columns} == {"marts"}
    assert [c for c in columns if is_contact_column(c[2])] == []


def _drop_database(server_url: str, url: str) -> None:
    name = str(conninfo_to_dict(url)["dbname"])
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _mart_columns_declared_in_dbt() -> list[tuple[str, str, str]]:
    """(file, model, column) for every column of every model under dbt_project/models/marts."""
    found = []
    for path in sorted((REPO / "dbt_project" / "models" / "marts").rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models") or []:
            for column in model.get("columns") or []:
                found.append((str(path.relative_to(REPO)), model["name"], str(column["name"])))
    return found


def test_no_mart_declares_a_contact_phone_or_email_column() -> None:
    """Contacts' phone numbers and e-mails live in registry/ for alerts; a mart (dim_department …) never carries them.

    Marts enforce dbt contracts, so their YAML lists every column they have.
    """
    columns = _mart_columns_declared_in_dbt()
    assert columns, "no mart columns found under dbt_project/models/marts: has the folder moved?"
    offending = [c for c in columns if is_contact_column(c[2])]
    assert offending == [], f"marts must not carry contact details (the BI role reads every mart): {offending}"


def test_no_mart_sql_selects_contact_fields() -> None:
    identifier = re.compile(r"[^\W\d]\w*")
    offending = []
    for path in sorted((REPO / "dbt_project" / "models" / "marts").rglob("*.sql")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("--", 1)[0]
            if any(is_contact_column(word) for word in identifier.findall(code)):
                offending.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offending == [], "marts must not select contact details:\n" + "\n".join(offending)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("contact_phone", True),
        ("email", True),
        ("e_mail", True),
        ("mobile_number", True),
        ("联系电话", True),
        ("telephone", True),
        ("department_name", False),
        ("hotel_count", False),
        ("is_telecom_funded", False),
    ],
)
def test_contact_column_detection(name: str, expected: bool) -> None:
    assert is_contact_column(name) is expected
