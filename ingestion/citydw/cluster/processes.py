"""Long-running processes of the local cluster: each in its own session, killable as a whole.

Every server (Redis, each Airflow component) is started with ``setsid``, so
it leads a process group of its own that a signal reaches entirely: the
Celery worker's pool children die with it. Airflow puts each task runner in
yet another group (so that it can signal a task's own subprocesses), which
is why :meth:`ManagedProcess.kill` also signals the groups of the process's
descendants: a worker killed here dies the way a worker machine that lost
power does, with the task it was running.

While the parent runs attached (the default), the kernel sends SIGTERM to
each server when the parent dies (``PR_SET_PDEATHSIG``), so a test run that
is itself killed does not leave a cluster behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
# Looked up once, here: the child may only call it, since dlopen after fork can
# deadlock on a lock another thread of the parent held.
_prctl: Callable[..., int] | None
try:
    _prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except (OSError, AttributeError):  # not glibc Linux: servers then outlive a killed parent
    _prctl = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ManagedProcess:
    """One server process of the cluster, its log file and its process group."""

    name: str
    command: Sequence[str]
    log_file: Path
    env: Mapping[str, str] = field(repr=False, default_factory=dict)
    cwd: Path | None = None
    pid: int | None = None

    def start(self, *, attached: bool = True) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as output:
            process = subprocess.Popen(
                list(self.command),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=dict(self.env),
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent if attached else None,
            )
        self._popen = process
        self.pid = process.pid
        log.info("started %s (pid %s): %s", self.name, self.pid, " ".join(self.command))

    @property
    def running(self) -> bool:
        if self.pid is None:
            return False
        popen = getattr(self, "_popen", None)
        if popen is not None:
            return popen.poll() is None
        try:
            return psutil.Process(self.pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def descendants(self) -> list[psutil.Process]:
        if self.pid is None:
            return []
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return []

    def process_groups(self) -> set[int]:
        """The process's own group and those of its descendants (Airflow's task runners)."""
        groups = set()
        for pid in [self.pid, *(child.pid for child in self.descendants())]:
            if pid is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    groups.add(os.getpgid(pid))
        # Never our own group: signalling it would signal us.
        groups.discard(os.getpgid(0))
        return groups

    def signal(self, sig: signal.Signals) -> None:
        signal_groups(self.process_groups(), sig)

    def kill(self) -> None:
        """SIGKILL the process, its group and its descendants' groups, at once and without warning."""
        self.signal(signal.SIGKILL)
        self.wait(5)

    def wait(self, timeout: float) -> bool:
        """Wait for the process to exit; returns whether it did. Reaps it if it is our child."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                return True
            time.sleep(0.1)
        return not self.running

    def tail(self, chars: int = 4000) -> str:
        try:
            with open(self.log_file, "rb") as handle:
                handle.seek(max(0, self.log_file.stat().st_size - chars))
                return handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""


def signal_groups(groups: Iterable[int], sig: signal.Signals) -> None:
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)


def stop_all(processes: Sequence[ManagedProcess], grace: float) -> None:
    """SIGTERM every process's groups, give them ``grace`` seconds together, then SIGKILL what is left."""
    groups = {process.name: process.process_groups() for process in processes}
    for process in processes:
        signal_groups(groups[process.name], signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        process.wait(max(0.0, deadline - time.monotonic()))
    for process in processes:
        # Whatever is left, including task runners in groups of their own.
        signal_groups(groups[process.name] | process.process_groups(), signal.SIGKILL)
        process.wait(5)


def groups_alive(groups: Iterable[int]) -> bool:
    """Whether any process is still in one of these groups."""
    wanted = set(groups)
    for process in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(process.pid) in wanted and process.status() != psutil.STATUS_ZOMBIE:
                return True
    return False
