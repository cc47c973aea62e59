"""``citydw bi up|down|status``: Superset on 127.0.0.1, on the warehouse as ``citydw_bi``, with ``bi/`` imported.

``up`` installs ``.venv-bi`` if needed, writes the configuration, migrates
Superset's metadata, makes the ``admin`` user, starts the web server
(gunicorn, in its own session, outliving the command) and imports the
dashboards through the REST API. Its state (pid, start time, port) is kept in
``<home>/bi/server.json``, so ``down`` and ``status`` find it from another
process; a pid alone could be a new process that reused the number.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from citydw.bi import config, dashboards, environment
from citydw.bi.api import SupersetApi, wait_until_healthy
from citydw.cluster.processes import ManagedProcess, stop_all
from citydw.settings import Settings, get_settings

Echo = Callable[[str], None]

ADMIN = "admin"
STATE_FILE = "server.json"
SETUP_FILE = "setup.json"
# Superset's first start migrates ~200 revisions and syncs permissions: minutes on a busy laptop.
_COMMAND_TIMEOUT = 900
_START_TIMEOUT = 300


class BiError(RuntimeError):
    """Superset could not be set up or started; the message says what to do."""


@dataclass(frozen=True)
class RunningSuperset:
    url: str
    pid: int
    port: int
    log_file: Path


def up(settings: Settings | None = None, *, echo: Echo = print, import_bi: bool = True) -> RunningSuperset:
    """Start Superset (or find it running) with the dashboards of ``bi/`` imported; returns where it is."""
    settings = settings or get_settings()
    running = status(settings)
    bi_url = warehouse_bi_url(settings)
    if running is None:
        environment.ensure_installed(settings, echo=echo)
        prepare(settings, echo=echo)
        running = _start(settings, echo=echo)
    if import_bi:
        api = login(running.url, settings)
        dashboards.import_dashboards(api, settings.dashboards_dir, bi_url)
        echo(f"imported the dashboards of {settings.dashboards_dir} (connected to the warehouse as citydw_bi)")
    return running


def prepare(settings: Settings, echo: Echo = print) -> None:
    """Write the configuration, migrate the metadata, (re)set the admin's password, sync permissions.

    The slow steps run only when something changed since the last time
    (Superset's version, the admin's password): ``<home>/bi/setup.json``.
    """
    config.write_config(settings)
    _ensure_metadata_database(settings)
    done = _read_json(settings.bi_dir / SETUP_FILE) or {}
    password = config.admin_password(settings)
    wanted = {
        "superset": environment.SUPERSET_VERSION,
        "metadata": hashlib.sha256(config.metadata_url(settings).encode()).hexdigest(),
        "admin": hashlib.sha256(password.encode()).hexdigest(),
    }
    sqlite_lost = settings.bi_metadata_url is None and not (settings.bi_dir / "superset.db").exists()
    if sqlite_lost or done.get("superset") != wanted["superset"] or done.get("metadata") != wanted["metadata"]:
        echo("setting up Superset's metadata (the first time takes a few minutes) …")
        _superset(settings, "db", "upgrade")
        _superset(settings, "init")
        # A new metadata database has no admin yet.
        done = {k: wanted[k] for k in ("superset", "metadata")}
    if done.get("admin") != wanted["admin"]:
        _set_admin_password(settings, password)
        done["admin"] = wanted["admin"]
    (settings.bi_dir / SETUP_FILE).write_text(json.dumps(done, indent=2) + "\n")


def down(settings: Settings | None = None, grace: float = 20) -> bool:
    """Stop the Superset ``up`` started; returns whether one was running."""
    settings = settings or get_settings()
    running = status(settings)
    if running is not None:
        stop_all([ManagedProcess("superset", [], running.log_file, pid=running.pid)], grace)
    with contextlib.suppress(FileNotFoundError):
        (settings.bi_dir / STATE_FILE).unlink()
    return running is not None


def status(settings: Settings | None = None) -> RunningSuperset | None:
    """The running Superset of this home, or None."""
    settings = settings or get_settings()
    state = _read_json(settings.bi_dir / STATE_FILE)
    if not state or _create_time(state["pid"]) != state.get("create_time"):
        return None
    return RunningSuperset(state["url"], state["pid"], state["port"], Path(state["log"]))


def login(url: str, settings: Settings | None = None) -> SupersetApi:
    """A REST session as ``admin``."""
    settings = settings or get_settings()
    return SupersetApi(url, ADMIN, config.admin_password(settings))


def warehouse_bi_url(settings: Settings) -> str:
    """The warehouse's URL as ``citydw_bi`` (never the owner): what Superset's database connects with."""
    from citydw.warehouse import roles
    from citydw.warehouse.connect import bi_password, bi_url, prepare_warehouse, resolve_warehouse_url

    url = prepare_warehouse(resolve_warehouse_url(settings))
    found = bi_url(url, settings)
    if found is None:
        raise BiError(
            "Superset connects to the warehouse as citydw_bi, which has no password here: "
            "set CITYDW_BI_PASSWORD (citydw applies it to the role)."
        )
    # prepare_warehouse sets the password once per process and URL; this process may have
    # prepared the URL before the password was configured, so make sure the role takes it now.
    roles.ensure_bi_password(url, bi_password(url, settings))
    return found


def _start(settings: Settings, echo: Echo) -> RunningSuperset:
    port = settings.bi_port
    if not _port_is_free(port):
        raise BiError(f"Port {port} on 127.0.0.1 is in use: stop what listens there or set CITYDW_BI_PORT.")
    venv = settings.bi_venv_path
    process = ManagedProcess(
        "superset",
        [
            str(venv / "bin" / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            # One process, threads for the dashboard's parallel chart queries: a laptop's memory.
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--timeout",
            "120",
            "--graceful-timeout",
            "10",
            "superset.app:create_app()",
        ],
        settings.bi_dir / "superset.log",
        env=config.superset_env(settings),
        cwd=settings.bi_dir,
    )
    echo(f"starting Superset on http://127.0.0.1:{port} (log {process.log_file}) …")
    process.start(attached=False)
    url = f"http://127.0.0.1:{port}"
    if not wait_until_healthy(url, _START_TIMEOUT, is_alive=lambda: process.running):
        stop_all([process], 5)
        raise BiError(f"Superset did not start on {url}; its log {process.log_file} ends with:\n{process.tail()}")
    assert process.pid is not None
    state = {
        "pid": process.pid,
        "create_time": _create_time(process.pid),
        "port": port,
        "url": url,
        "log": str(process.log_file),
    }
    (settings.bi_dir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")
    return RunningSuperset(url, process.pid, port, process.log_file)


def _ensure_metadata_database(settings: Settings) -> None:
    """Create the PostgreSQL database CITYDW_BI_METADATA_URL names, if it does not exist (SQLite needs nothing)."""
    url = settings.bi_metadata_url
    if url and url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres"):
        from citydw.warehouse.connect import ensure_database

        # SQLAlchemy's driver suffix (postgresql+psycopg2://) means nothing to libpq.
        ensure_database("postgresql:" + url.split(":", 1)[1])


def _set_admin_password(settings: Settings, password: str) -> None:
    """Create ``admin``, or reset its password; the password goes in on stdin, never on a command line."""
    answer = f"{password}\n{password}\n"
    output = _superset(
        settings,
        "fab",
        "create-admin",
        "--username",
        ADMIN,
        "--firstname",
        "城建",
        "--lastname",
        "管理员",
        "--email",
        "admin@citydw.invalid",
        stdin=answer,
    )
    if "already exist" in output.lower():
        _superset(settings, "fab", "reset-password", "--username", ADMIN, stdin=answer)


def _superset(settings: Settings, *args: str, stdin: str | None = None) -> str:
    command = [str(environment.superset_executable(settings)), *args]
    try:
        result = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            env=config.superset_env(settings),
            cwd=settings.bi_dir,
            timeout=_COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise BiError(f"`superset {' '.join(args[:2])}` did not finish within {_COMMAND_TIMEOUT} s") from err
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise BiError(f"`superset {' '.join(args[:2])}` failed (exit {result.returncode}):\n{output[-3000:]}")
    return output


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _read_json(path: Path) -> dict | None:
    try:
        return dict(json.loads(path.read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
