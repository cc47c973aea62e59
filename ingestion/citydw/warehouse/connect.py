"""Which PostgreSQL the warehouse is, and connections to it.

``CITYDW_WAREHOUSE_URL`` names the warehouse for every command, DAG task and
dbt run; when it is unset the embedded warehouse is used, started if needed.
A new, empty database named by the URL is created and migrated on first use,
so pointing citydw at a fresh database is all the setup there is.
"""

from __future__ import annotations

import getpass
import logging
import threading
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import SecretStr

from citydw.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Where CREATE DATABASE is run from; every PostgreSQL server has it.
MAINTENANCE_DATABASE = "postgres"

_prepared: set[str] = set()
_prepared_lock = threading.Lock()


class WarehouseConnectionError(psycopg.OperationalError):
    """The warehouse named by a URL cannot be reached or set up; the message says what to check."""


def resolve_warehouse_url(settings: Settings | None = None) -> str:
    """The warehouse's URL: CITYDW_WAREHOUSE_URL, else the embedded warehouse (started if needed)."""
    settings = settings or get_settings()
    if settings.warehouse_url:
        return settings.warehouse_url
    # Imported here: the embedded server is only needed when no URL is given.
    from citydw.warehouse.embedded import EmbeddedWarehouse

    return EmbeddedWarehouse.from_settings(settings).up()


def prepare_warehouse(url: str) -> str:
    """Create the URL's database if it does not exist, migrate it, and return the URL.

    Done once per process and URL; later calls return at once. Safe when many
    processes (Celery workers, parallel DAG tasks) prepare the same database.
    """
    with _prepared_lock:
        if url in _prepared:
            return url
        # Imported here: migrations uses this module's helpers.
        from citydw.warehouse import roles
        from citydw.warehouse.migrations import migrate

        ensure_database(url)
        migrate(url)
        # The BI role exists after migrating; its password comes from the environment,
        # or for the embedded laptop warehouse from a private file beside its data.
        roles.ensure_bi_password(url, bi_password(url))
        with connect(url, autocommit=True) as conn:
            roles.restrict_database(conn)
        _prepared.add(url)
        return url


def bi_password(url: str, settings: Settings | None = None) -> SecretStr | None:
    """The password of the read-only ``citydw_bi`` role on ``url``'s server, if one is configured.

    CITYDW_BI_PASSWORD wins; on the configured embedded (laptop) warehouse a
    password is made up and kept beside its data; elsewhere there is none.
    """
    settings = settings or get_settings()
    if settings.bi_password is not None:
        return settings.bi_password
    from citydw.warehouse.embedded import EmbeddedWarehouse

    embedded = EmbeddedWarehouse.from_settings(settings)
    parts = urlsplit(url)
    if embedded.is_initialised and parts.hostname == "127.0.0.1" and parts.port == settings.warehouse_port:
        return SecretStr(embedded.bi_password())
    return None


def bi_url(url: str, settings: Settings | None = None) -> str | None:
    """``url`` with the BI role's credentials instead of the owner's, if it has a password."""
    password = bi_password(url, settings)
    if password is None:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"citydw_bi:{quote(password.get_secret_value(), safe='')}@{host}" + (
        f":{parts.port}" if parts.port else ""
    )
    return urlunsplit(parts._replace(netloc=netloc))


def connect(url: str | None = None, autocommit: bool = False) -> psycopg.Connection:
    """A connection to the warehouse; without a URL, to the resolved and prepared one."""
    if url is None:
        url = prepare_warehouse(resolve_warehouse_url())
    try:
        return psycopg.connect(_with_app_name(url), autocommit=autocommit)
    except psycopg.OperationalError as err:
        raise _connection_error(url, err) from err


def ensure_database(url: str) -> bool:
    """Create the URL's database unless it exists; return whether it was created.

    Tries the database itself first, so a user allowed into its own database
    but not into ``postgres`` works as long as the database exists.
    """
    try:
        with psycopg.connect(_with_app_name(url)):
            return False
    except psycopg.OperationalError as err:
        # The server may word "does not exist" in any language, so ask the
        # catalog instead of reading the message.
        first_error = err
    dbname = str(conninfo_to_dict(url).get("dbname") or _default_user(url))
    maintenance_url = url_with_database(url, MAINTENANCE_DATABASE)
    try:
        with psycopg.connect(_with_app_name(maintenance_url), autocommit=True) as conn:
            if conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone():
                raise _connection_error(url, first_error)
            try:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                return False  # another process created it a moment ago
    except psycopg.errors.InsufficientPrivilege as err:
        raise WarehouseConnectionError(
            f"Database {dbname!r} does not exist on {redact_url(url)} and its user may not create it: "
            f'create it (create database "{dbname}") or grant the user CREATEDB.'
        ) from err
    except WarehouseConnectionError:
        raise
    except psycopg.OperationalError:
        # The maintenance database is out of reach; the first error says more.
        raise _connection_error(url, first_error) from first_error
    log.info("created database %s on %s", dbname, redact_url(url))
    return True


def dbt_env(url: str) -> dict[str, str]:
    """The CITYDW_PG_* variables dbt's ``profiles.yml`` reads, taken from a URL.

    Percent-encoded user names and passwords are decoded, and a unix-socket
    URL (``postgresql://user@/db?host=/run/postgresql``) gives the socket
    folder as the host, which dbt's driver understands.
    """
    params = conninfo_to_dict(url)
    user = str(params.get("user") or getpass.getuser())
    env = {
        "CITYDW_PG_HOST": str(params.get("host") or params.get("hostaddr") or "localhost"),
        "CITYDW_PG_PORT": str(params.get("port") or 5432),
        "CITYDW_PG_USER": user,
        "CITYDW_PG_PASSWORD": str(params.get("password") or ""),
        "CITYDW_PG_DBNAME": str(params.get("dbname") or user),
    }
    if params.get("sslmode"):
        env["CITYDW_PG_SSLMODE"] = str(params["sslmode"])
    return env


def url_with_database(url: str, dbname: str) -> str:
    """The same server and credentials, another database; keeps URLs as URLs."""
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres"):
        return urlunsplit(parts._replace(path="/" + quote(dbname, safe="")))
    return make_conninfo(url, dbname=dbname)


def server_status(url: str) -> str:
    """The server's version as PostgreSQL reports it, or ``unreachable: <why>`` (the password left out)."""
    try:
        with psycopg.connect(_with_app_name(url), connect_timeout=5) as conn:
            row = conn.execute("select current_setting('server_version')").fetchone()
            return f"PostgreSQL {row[0] if row else '?'}"
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        password = urlsplit(url).password if "://" in url else conninfo_to_dict(url).get("password")
        return f"unreachable: {reason.replace(str(password), '***') if password else reason}"


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres") and parts.password is not None:
        netloc = parts.netloc.rsplit("@", 1)
        user = netloc[0].split(":", 1)[0]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))
    if parts.scheme:
        return url
    params = conninfo_to_dict(url)
    if "password" in params:
        params["password"] = "***"
    return make_conninfo("", **params)


def _with_app_name(url: str) -> str:
    """The URL's connection string, naming citydw in pg_stat_activity unless the URL names something."""
    if "application_name" in conninfo_to_dict(url):
        return url
    return make_conninfo(url, application_name="citydw")


def _default_user(url: str) -> str:
    return str(conninfo_to_dict(url).get("user") or getpass.getuser())


def _connection_error(url: str, err: psycopg.OperationalError) -> WarehouseConnectionError:
    return WarehouseConnectionError(
        f"Cannot connect to the warehouse at {redact_url(url)}: {str(err).strip()}\n"
        "Check CITYDW_WAREHOUSE_URL, or unset it to use the embedded warehouse (`citydw warehouse up`)."
    )
