"""Superset's own virtual environment, ``.venv-bi/``, installed from pinned constraints.

Superset 6.1 pins Flask, SQLAlchemy 1.4 and marshmallow 3 where Airflow 3
needs other versions, so it never goes into ``.venv/``. ``pip install
apache-superset==6.1.0`` alone does not start: it also needs flask-caching
2.3.x (2.5 breaks its cache set-up), cachetools and rich, which it imports
without declaring; and psycopg2 to reach PostgreSQL. All of them are pinned in
``requirements/bi-constraints.txt``.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from citydw.settings import Settings

log = logging.getLogger(__name__)

SUPERSET_VERSION = "6.1.0"
REQUIREMENTS = (f"apache-superset=={SUPERSET_VERSION}", "flask-caching", "cachetools", "rich", "psycopg2-binary")
CONSTRAINTS = Path("requirements") / "bi-constraints.txt"
_MARKER = ".installed"


class BiEnvironmentError(RuntimeError):
    """.venv-bi could not be installed; the message says what to do."""


def constraints_file(settings: Settings) -> Path:
    return settings.project_dir / CONSTRAINTS


def superset_executable(settings: Settings) -> Path:
    return settings.bi_venv_path / "bin" / "superset"


def is_installed(settings: Settings) -> bool:
    """Whether .venv-bi holds what the constraints file pins now."""
    marker = settings.bi_venv_path / _MARKER
    try:
        return marker.read_text().strip() == _fingerprint(settings) and superset_executable(settings).exists()
    except FileNotFoundError:
        return False


def ensure_installed(settings: Settings, echo: Callable[[str], None] = print) -> Path:
    """Create or update .venv-bi from the pinned constraints; returns its ``superset`` command.

    A no-op when the constraints have not changed since the last install.
    """
    venv = settings.bi_venv_path
    if is_installed(settings):
        return superset_executable(settings)
    if venv.resolve() == (settings.project_dir / ".venv").resolve():
        raise BiEnvironmentError("CITYDW_BI_VENV names .venv: Superset needs an environment of its own (.venv-bi).")
    echo(
        f"installing Superset {SUPERSET_VERSION} into {venv} (pinned by {CONSTRAINTS}); the first time takes a minute …"
    )
    python = _python_311()
    if not (venv / "bin" / "python").exists():
        _run([python, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--quiet", "--disable-pip-version-check"]
    _run([*pip, "install", "-c", str(constraints_file(settings)), *REQUIREMENTS])
    (venv / _MARKER).write_text(_fingerprint(settings) + "\n")
    return superset_executable(settings)


def _fingerprint(settings: Settings) -> str:
    return hashlib.sha256(constraints_file(settings).read_bytes()).hexdigest()


def _python_311() -> str:
    """The interpreter .venv-bi is made with: the one running citydw (3.11, as the constraints were locked)."""
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    if not found:
        raise BiEnvironmentError("Superset's pinned environment needs Python 3.11: install python3.11.")
    return found


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BiEnvironmentError(
            f"{' '.join(command)} failed (exit {result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}"
        )
