"""What every benchmark gets: its sizes, its work folder, the warehouse, and child processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.warehouse import BenchWarehouse

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Sizes:
    """How big the workloads are: the issue's sizes, or a smoke run's."""

    load_rows: int
    ingest_rows: int
    seed_months: int  # months of real deliveries ingested to build history from
    history_months: int  # months of history the measured month runs on
    bi_passes: int  # passes over the ten queries per run

    @classmethod
    def full(cls) -> Sizes:
        return cls(load_rows=1_000_000, ingest_rows=1_000_000, seed_months=12, history_months=120, bi_passes=10)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(load_rows=100_000, ingest_rows=100_000, seed_months=1, history_months=12, bi_passes=3)


@dataclass
class Bench:
    quick: bool
    runs: int  # runs of each benchmark
    heavy_runs: int  # runs of the long ones (the 1M ingest, the month's pipeline)
    sizes: Sizes
    work: Path
    warehouse: BenchWarehouse
    log_file: Path
    shared: dict[str, Any] = field(default_factory=dict)  # what one benchmark prepares for another

    def log(self, message: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {message}"
        print(line, flush=True)
        with self.log_file.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    @property
    def home(self) -> Path:
        """CITYDW_HOME of every child: archive, dbt logs, Airflow; never the developer's .citydw."""
        return self.work / "home"

    @property
    def drop(self) -> Path:
        return self.work / "drop"

    def child_env(self, url: str | None = None, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        # Nothing of the developer's setup leaks in: their warehouse, archive or Airflow home.
        for variable in ("CITYDW_WAREHOUSE_URL", "CITYDW_ARCHIVE_URL", "AIRFLOW_HOME"):
            env.pop(variable, None)
        env.update(
            {
                "CITYDW_HOME": str(self.home),
                "CITYDW_DROP_URL": str(self.drop),
                "DBT_TARGET_PATH": str(self.work / "dbt-target"),
                "GX_ANALYTICS_ENABLED": "false",
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "DO_NOT_TRACK": "1",
                "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
                "SCARF_ANALYTICS": "false",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
            }
        )
        if url:
            env["CITYDW_WAREHOUSE_URL"] = url
        env.update(extra)
        return env

    def run_child(self, module: str, args: list[str], url: str | None = None, **env: str) -> dict[str, Any]:
        """Run ``python -m <module> <args> --result FILE`` and return the JSON it wrote there (``env``: more variables)."""
        result = self.work / f"{module.rsplit('.', 1)[-1]}-result.json"
        result.unlink(missing_ok=True)
        log = self.work / f"{module.rsplit('.', 1)[-1]}.log"
        with log.open("a", encoding="utf-8") as output:
            completed = subprocess.run(
                [sys.executable, "-m", module, *args, "--result", str(result)],
                cwd=REPO,
                env=self.child_env(url, **env),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        if not result.exists():
            raise RuntimeError(f"{module} {' '.join(args)} failed (exit {completed.returncode}); see {log}")
        return json.loads(result.read_text(encoding="utf-8"))
