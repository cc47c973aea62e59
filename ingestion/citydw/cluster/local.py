"""A real distributed Airflow on this machine, without Docker: :class:`LocalCluster`.

The same topology as docker/compose.yaml, as plain processes on localhost:
Redis as the Celery broker; Airflow's metadata in PostgreSQL (the database
``airflow`` on the warehouse's server unless told otherwise); and Airflow's
own components — API server, scheduler, DAG processor, optionally the
triggerer, and N Celery workers, each a ``airflow celery worker`` with its
own Celery hostname (``worker-1@<host>`` …) and log-server port, all on
the default queue. Tasks reach the API server's Execution API over HTTP, as
they would from another machine, and the warehouse through
``CITYDW_WAREHOUSE_URL``.

Everything lives under one folder (``<CITYDW_HOME>/cluster`` for ``citydw
cluster up``, a temporary one in tests)::

    airflow/        AIRFLOW_HOME: airflow.cfg, task logs
    logs/<name>.log each process's output
    redis/          the broker's configuration (no data is persisted)
    secrets.json    JWT secret, API secret key, Fernet key, broker password (mode 0600)
    cluster.json    the running processes, for `citydw cluster down|status`

Local conveniences that a deployment must not copy: SimpleAuthManager with
every user an admin, and all ports bound to 127.0.0.1 only.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as day_time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psutil

from citydw.cluster.api import AirflowApi
from citydw.cluster.processes import ManagedProcess, stop_all
from citydw.cluster.redis import ensure_redis_server, redis_command, wait_for_redis
from citydw.months import next_month
from citydw.settings import Settings, get_settings

log = logging.getLogger(__name__)

MONTHLY_DAG = "citydw_monthly"
REPORT_DAG = "citydw_report"
LISTEN_HOST = "127.0.0.1"
STATE_FILE = "cluster.json"


class ClusterError(RuntimeError):
    """A cluster process did not start or became unhealthy; the message names its log."""


@dataclass(frozen=True)
class ClusterConfig:
    """What a local cluster runs on and how; :meth:`from_settings` gives citydw's defaults."""

    home: Path
    warehouse_url: str
    metadata_url: str
    project_dir: Path
    citydw_home: Path
    timezone: str = "Asia/Shanghai"
    workers: int = 2
    worker_concurrency: int = 2
    triggerer: bool = True
    api_port: int | None = None  # None: any free port
    # [scheduler] task_instance_heartbeat_timeout: how long a task whose worker died
    # stays "running" before the scheduler fails it (and retries it). Airflow's default.
    heartbeat_timeout: int = 300
    # [scheduler] task_queued_timeout: how long a task may wait queued (say, in a dead
    # worker's prefetch) before the scheduler queues it again. Airflow's default.
    queued_timeout: int = 600
    # Whether the scheduler creates runs from the DAGs' schedules ([scheduler]
    # use_job_schedule). Off by default: a local cluster runs what is triggered
    # or backfilled, instead of starting the latest month when a DAG is unpaused.
    scheduled_runs: bool = False
    redis_server: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)  # extra variables for every process

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> ClusterConfig:
        """The warehouse citydw resolves (embedded or CITYDW_WAREHOUSE_URL), Airflow's metadata beside it."""
        from citydw.warehouse.connect import prepare_warehouse, resolve_warehouse_url, url_with_database

        settings = settings or get_settings()
        warehouse_url = prepare_warehouse(resolve_warehouse_url(settings))
        values: dict[str, Any] = {
            "home": settings.home_dir / "cluster",
            "warehouse_url": warehouse_url,
            "metadata_url": settings.airflow_database_url or url_with_database(warehouse_url, "airflow"),
            "project_dir": settings.project_dir,
            "citydw_home": settings.home_dir,
            "timezone": settings.timezone,
            "api_port": settings.cluster_api_port,
            "redis_server": settings.redis_server,
        }
        return cls(**(values | overrides))


def sqlalchemy_url(url: str, prefix: str = "") -> str:
    """A libpq URL as SQLAlchemy wants it, on psycopg 3 (``postgresql+psycopg://``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ClusterError(f"The Airflow metadata database needs a postgresql:// URL, not {parts.scheme or url!r}.")
    return prefix + urlunsplit(parts._replace(scheme="postgresql+psycopg"))


def logical_date_for_month(month: date, timezone: str = "Asia/Shanghai") -> datetime:
    """The logical date of the scheduled run that reports on ``month``: the 12th of the next month, 06:00."""
    return datetime.combine(next_month(month).replace(day=12), day_time(6), tzinfo=ZoneInfo(timezone))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LISTEN_HOST, 0))
        return int(probe.getsockname()[1])


class LocalCluster:
    """Redis, Airflow's API server, scheduler, DAG processor, triggerer and Celery workers on localhost.

    Use it as a context manager: entering starts everything and waits until
    it is healthy; leaving stops every process group, whatever happened in
    the block::

        with LocalCluster(config) as cluster:
            run_id = cluster.trigger_month(date(2022, 7, 1))
            assert cluster.wait_for_run(run_id) == "success"
    """

    def __init__(self, config: ClusterConfig, *, attached: bool = True) -> None:
        """``attached=False`` leaves the processes running after this process exits (`citydw cluster up -d`)."""
        self.config = config
        self.attached = attached
        self.home = config.home.resolve()
        self.processes: dict[str, ManagedProcess] = {}
        self._secrets: dict[str, str] = {}
        self.api_port = config.api_port or free_port()
        self.api_url = f"http://{LISTEN_HOST}:{self.api_port}"
        self.api = AirflowApi(self.api_url)
        self._stopped = False

    # -- lifecycle -------------------------------------------------------------

    def __enter__(self) -> LocalCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, timeout: float = 300) -> None:
        """Start every process, in dependency order, and wait until the cluster is healthy."""
        self.home.mkdir(parents=True, exist_ok=True)
        self._check_not_running()
        self._secrets = self._load_secrets()
        if self.attached:
            atexit.register(self.stop)
        from citydw.warehouse.connect import ensure_database, prepare_warehouse

        prepare_warehouse(self.config.warehouse_url)
        ensure_database(self.config.metadata_url)

        redis_port = free_port()
        binary = ensure_redis_server(self.config.redis_server)
        self._spawn(
            "redis", redis_command(binary, redis_port, self._secrets["redis_password"], self.home / "redis"), {}
        )
        wait_for_redis(redis_port, self._secrets["redis_password"])
        self.environment = self._airflow_environment(redis_port)

        self._migrate_metadata()
        airflow = [sys.executable, "-m", "airflow"]
        self._spawn("api-server", [*airflow, "api-server", "--host", LISTEN_HOST, "--port", str(self.api_port)])
        self._spawn("scheduler", [*airflow, "scheduler"])
        self._spawn("dag-processor", [*airflow, "dag-processor"])
        if self.config.triggerer:
            self._spawn("triggerer", [*airflow, "triggerer"])
        for number in range(1, self.config.workers + 1):
            self.start_worker(number)
        self._write_state()
        self.wait_healthy(timeout)

    def start_worker(self, number: int) -> ManagedProcess:
        """Start Celery worker ``worker-<number>`` (again, after :meth:`kill_worker`)."""
        name = f"worker-{number}"
        command = [
            sys.executable, "-m", "airflow", "celery", "worker",
            "--celery-hostname", f"{name}@%h",
            "--concurrency", str(self.config.worker_concurrency),
            "--queues", "default",
        ]  # fmt: skip
        # Each worker serves its task logs on a port of its own.
        process = self._spawn(name, command, {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())})
        self._write_state()
        return process

    def stop(self, grace: float = 15) -> None:
        """Stop every process group: SIGTERM, then SIGKILL after ``grace`` seconds. Idempotent."""
        if self._stopped or not self.processes:
            self._stopped = True
            return
        self._stopped = True
        # Workers and scheduler first, the broker and the API server last.
        order = sorted(self.processes.values(), key=lambda p: p.name in ("redis", "api-server"))
        stop_all(order, grace)
        with contextlib.suppress(FileNotFoundError):
            (self.home / STATE_FILE).unlink()
        log.info("local cluster stopped")

    # -- health ----------------------------------------------------------------

    def wait_healthy(self, timeout: float = 300) -> None:
        """Wait until the API server reports a healthy metadatabase, scheduler and DAG processor,
        and every Celery worker has said it is ready; raise with the log of a process that died."""
        deadline = time.monotonic() + timeout
        problem: str | None = "not checked yet"
        while time.monotonic() < deadline:
            self._raise_if_dead()
            problem = self._unhealthy()
            if problem is None:
                log.info("local cluster healthy: %s", self.api_url)
                return
            time.sleep(1)
        raise ClusterError(f"The local cluster was not healthy within {timeout:.0f} s: {problem}. Logs: {self.home}")

    def _unhealthy(self) -> str | None:
        try:
            health = self.api.health()
        except Exception as err:
            return f"API server: {err}"
        components = ["metadatabase", "scheduler", "dag_processor"] + (["triggerer"] if self.config.triggerer else [])
        for component in components:
            status = (health.get(component) or {}).get("status")
            if status != "healthy":
                return f"{component}: {status}"
        for name, process in self.processes.items():
            if name.startswith("worker-") and not _worker_ready(process):
                return f"{name}: not ready"
        return None

    def _raise_if_dead(self) -> None:
        for name, process in self.processes.items():
            if not process.running and not getattr(process, "killed_on_purpose", False):
                raise ClusterError(f"{name} exited. The end of {process.log_file}:\n{process.tail()}")

    def wait_for_dag(self, dag_id: str = MONTHLY_DAG, timeout: float = 180, unpause: bool = True) -> None:
        """Wait until the DAG processor has parsed the DAG; unpause it so the scheduler runs its runs."""
        deadline = time.monotonic() + timeout
        while (found := self.api.dag(dag_id)) is None:
            self._raise_if_dead()
            if time.monotonic() > deadline:
                raise ClusterError(f"DAG {dag_id} not parsed within {timeout:.0f} s; see {self._log('dag-processor')}")
            time.sleep(1)
        if unpause and found.get("is_paused"):
            self.api.set_paused(dag_id, False)

    # -- runs ------------------------------------------------------------------

    def trigger_month(self, month: date, dag_id: str = MONTHLY_DAG) -> str:
        """Trigger the monthly DAG for report month ``month``, at that month's scheduled logical date."""
        logical_date = logical_date_for_month(month, self.config.timezone)
        return self.api.trigger(dag_id, logical_date, {"month": f"{month:%Y-%m}"})

    def wait_for_run(self, run_id: str, dag_id: str = MONTHLY_DAG, timeout: float = 900, **kwargs: Any) -> str:
        def check(run: dict[str, Any]) -> None:
            self._raise_if_dead()
            callback = kwargs.get("on_poll")
            if callback:
                callback(run)

        return self.api.wait_for_run(dag_id, run_id, timeout, poll=kwargs.get("poll", 1.0), on_poll=check)

    # -- workers ---------------------------------------------------------------

    def workers(self) -> dict[str, ManagedProcess]:
        return {name: p for name, p in self.processes.items() if name.startswith("worker-") and p.running}

    def worker_of(self, pid: int | None) -> str | None:
        """The worker whose process tree holds ``pid`` (a task instance's ``pid``), if any."""
        if pid is None:
            return None
        for name, process in self.workers().items():
            if pid in {child.pid for child in process.descendants()}:
                return name
        return None

    def kill_worker(self, name: str) -> None:
        """SIGKILL a worker's process group and its task runners' groups: a worker machine lost."""
        process = self.processes[name]
        process.killed_on_purpose = True  # type: ignore[attr-defined]
        process.kill()
        log.warning("killed %s (pid %s) and its tasks", name, process.pid)

    # -- internals -------------------------------------------------------------

    def _airflow_environment(self, redis_port: int) -> dict[str, str]:
        config = self.config
        airflow_home = self.home / "airflow"
        metadata = sqlalchemy_url(config.metadata_url)
        redis_password = quote(self._secrets["redis_password"], safe="")
        detection = max(1.0, min(10.0, config.heartbeat_timeout / 5))
        return {
            **{key: value for key, value in os.environ.items() if key != "AIRFLOW_CONFIG"},
            **config.env,
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(config.project_dir / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": config.timezone,
            "AIRFLOW__CORE__FERNET_KEY": self._secrets["fernet_key"],
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API__HOST": LISTEN_HOST,
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": self._secrets["api_secret_key"],
            # Every component signs and checks task tokens with the same secret.
            "AIRFLOW__API_AUTH__JWT_SECRET": self._secrets["jwt_secret"],
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
            # psycopg 3 is async too; Airflow would otherwise derive an asyncpg URL, a driver we do not install.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata.replace("+psycopg://", "+psycopg_async://", 1),
            "AIRFLOW__CELERY__BROKER_URL": f"redis://:{redis_password}@{LISTEN_HOST}:{redis_port}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(config.worker_concurrency),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(config.heartbeat_timeout),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": f"{detection:g}",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(config.queued_timeout),
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(config.scheduled_runs),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # Government networks: nothing leaves the machine.
            "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
            "SCARF_ANALYTICS": "false",
            "GX_ANALYTICS_ENABLED": "false",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
            # What the tasks read.
            "CITYDW_WAREHOUSE_URL": config.warehouse_url,
            "CITYDW_PROJECT_DIR": str(config.project_dir),
            "CITYDW_HOME": str(config.citydw_home),
            "PYTHONUNBUFFERED": "1",
        }

    def _migrate_metadata(self) -> None:
        """``airflow db migrate``: creates or upgrades Airflow's tables in the metadata database."""
        log_file = self.home / "logs" / "db-migrate.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "ab") as output:
            outcome = subprocess.run(
                [sys.executable, "-m", "airflow", "db", "migrate"],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                env=self.environment, timeout=600, check=False,
            )  # fmt: skip
        if outcome.returncode != 0:
            raise ClusterError(f"airflow db migrate failed (exit {outcome.returncode}); see {log_file}")

    def _spawn(self, name: str, command: list[str], extra_env: Mapping[str, str] | None = None) -> ManagedProcess:
        env = {**(self.environment if name != "redis" else os.environ), **(extra_env or {})}
        process = ManagedProcess(name, command, self._log(name), env=env, cwd=self.home)
        process.start(attached=self.attached)
        self.processes[name] = process
        self._stopped = False
        return process

    def _log(self, name: str) -> Path:
        return self.home / "logs" / f"{name}.log"

    def _load_secrets(self) -> dict[str, str]:
        """Secrets shared by the cluster's processes, made once per cluster home."""
        path = self.home / "secrets.json"
        if path.exists():
            return dict(json.loads(path.read_text()))
        from cryptography.fernet import Fernet

        values = {
            "jwt_secret": secrets.token_urlsafe(64),
            "api_secret_key": secrets.token_urlsafe(32),
            "fernet_key": Fernet.generate_key().decode(),
            "redis_password": secrets.token_hex(24),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(values, handle)
        return values

    def _write_state(self) -> None:
        state = {
            "api_url": self.api_url,
            "processes": [
                {"name": p.name, "pid": p.pid, "create_time": _create_time(p.pid), "log": str(p.log_file)}
                for p in self.processes.values()
            ],
        }
        (self.home / STATE_FILE).write_text(json.dumps(state, indent=2))

    def _check_not_running(self) -> None:
        running = running_processes(self.home)
        if running:
            raise ClusterError(
                f"A local cluster already runs from {self.home} ({', '.join(p.name for p in running)}): "
                "stop it first (citydw cluster down)."
            )


def _worker_ready(process: ManagedProcess) -> bool:
    """Whether the worker has logged Celery's ``<name>@<host> ready.``"""
    return re.search(rf"\b{re.escape(process.name)}@\S+ ready\.", process.tail(200_000)) is not None


def _create_time(pid: int | None) -> float | None:
    try:
        return psutil.Process(pid).create_time() if pid else None
    except psutil.Error:
        return None


# -- a cluster started by another process (citydw cluster up --detach) ---------


def read_state(home: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads((home / STATE_FILE).read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def running_processes(home: Path) -> list[ManagedProcess]:
    """The processes a cluster in ``home`` started that still run (checked by pid and start time)."""
    state = read_state(home)
    found = []
    for entry in (state or {}).get("processes", []):
        if entry.get("pid") and _create_time(entry["pid"]) == entry.get("create_time"):
            found.append(ManagedProcess(entry["name"], [], Path(entry["log"]), pid=entry["pid"]))
    return found


def stop_detached(home: Path, grace: float = 30) -> list[str]:
    """Stop the cluster a ``citydw cluster up --detach`` left running; returns the names stopped."""
    processes = running_processes(home)
    stop_all(sorted(processes, key=lambda p: p.name in ("redis", "api-server")), grace)
    with contextlib.suppress(FileNotFoundError):
        (home / STATE_FILE).unlink()
    return [p.name for p in processes]


def api_for(settings: Settings | None = None) -> AirflowApi:
    """The Airflow API citydw talks to: CITYDW_AIRFLOW_API_URL, else the running local cluster's."""
    settings = settings or get_settings()
    url = settings.airflow_api_url
    if not url:
        state = read_state(settings.home_dir / "cluster")
        if not state or not running_processes(settings.home_dir / "cluster"):
            raise ClusterError(
                "No Airflow to talk to: start the local cluster (citydw cluster up --detach, or make cluster) "
                "or set CITYDW_AIRFLOW_API_URL to a deployment's API server."
            )
        url = str(state["api_url"])
    return AirflowApi(
        url,
        token=settings.airflow_api_token.get_secret_value() if settings.airflow_api_token else None,
        username=settings.airflow_username,
        password=settings.airflow_password.get_secret_value() if settings.airflow_password else None,
    )


@contextlib.contextmanager
def local_cluster(settings: Settings | None = None, **overrides: Any) -> Iterator[LocalCluster]:
    """A :class:`LocalCluster` on citydw's settings, stopped when the block ends."""
    with LocalCluster(ClusterConfig.from_settings(settings, **overrides)) as cluster:
        yield cluster


__all__ = [
    "MONTHLY_DAG",
    "REPORT_DAG",
    "ClusterConfig",
    "ClusterError",
    "LocalCluster",
    "api_for",
    "local_cluster",
    "logical_date_for_month",
    "stop_detached",
]
