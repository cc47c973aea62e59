"""``demo_seconds``: ``make demo`` from start to end, with the environment already installed.

Each run is a fresh home (``CITYDW_HOME``) with its own embedded warehouse on
a free port, so it starts as a fresh clone does (initdb, generate, twelve
monthly DAG runs, the marts, the reports) and never touches the developer's
``.citydw``; dbt's target folder is the run's own too. The warehouse is
stopped afterwards. Long: only ``make bench`` runs it, and ``--skip-demo``
leaves it out.
"""

from __future__ import annotations

import subprocess
import time

from bench.context import REPO, Bench
from bench.results import Measurement
from bench.warehouse import free_port


def run(bench: Bench, runs: int) -> list[Measurement]:
    seconds = []
    for round_ in range(runs):
        home = bench.work / f"demo-{round_ + 1}"
        env = bench.child_env(
            CITYDW_HOME=str(home),
            CITYDW_WAREHOUSE_PORT=str(free_port()),
            DBT_TARGET_PATH=str(home / "dbt-target"),
        )
        env.pop("CITYDW_DROP_URL")
        log = bench.work / f"demo-{round_ + 1}.log"
        start = time.perf_counter()
        try:
            with log.open("w", encoding="utf-8") as output:
                completed = subprocess.run(["make", "demo"], cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
            elapsed = time.perf_counter() - start
        finally:
            subprocess.run([str(REPO / ".venv" / "bin" / "citydw"), "warehouse", "down"], cwd=REPO, env=env,
                           capture_output=True)  # fmt: skip
        if completed.returncode != 0:
            raise RuntimeError(f"make demo failed (exit {completed.returncode}); see {log}")
        seconds.append(elapsed)
        bench.log(f"  make demo {round_ + 1}: {elapsed:.0f}s")
    return [Measurement("demo_seconds", seconds, {"command": "make demo", "months": "2022-01..2022-12"})]
