"""``dag_parse_seconds_max``: the slowest DAG file's parse time, as Airflow's DAG processor measures it.

``airflow dags report`` loads every file of ``dags/`` into a DagBag in a
process that has already imported Airflow, and reports each file's parse
duration: what the DAG processor pays per file on every parse loop. Each
run is one ``airflow dags report`` in a fresh process, against a SQLite
metadata database in the benchmark's own Airflow home.
"""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

from bench.context import REPO, Bench
from bench.results import Measurement, summary

AIRFLOW = Path(REPO) / ".venv" / "bin" / "airflow"


def _seconds(duration: str) -> float:
    hours, minutes, seconds = duration.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds)).total_seconds()


def run(bench: Bench) -> list[Measurement]:
    home = bench.work / "airflow"
    home.mkdir(exist_ok=True)
    env = bench.child_env(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__CORE__DEFAULT_TIMEZONE="Asia/Shanghai",
    )
    airflow = str(AIRFLOW) if AIRFLOW.exists() else "airflow"
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, cwd=REPO)
    per_file: dict[str, list[float]] = {}
    slowest = []
    for round_ in range(bench.runs):
        completed = subprocess.run(
            [airflow, "dags", "report", "--output", "json"], env=env, check=True, capture_output=True, text=True
        )
        # Warnings share stdout with the report; the report is the JSON line.
        line = next(line for line in reversed(completed.stdout.splitlines()) if line.startswith("["))
        report = json.loads(line)
        durations = {entry["file"].lstrip("/"): _seconds(entry["duration"]) for entry in report}
        for name, seconds in durations.items():
            per_file.setdefault(name, []).append(seconds)
        slowest.append(max(durations.values()))
        bench.log(f"  dags report {round_ + 1}: slowest {max(durations, key=durations.__getitem__)} {slowest[-1]:.3f}s")
    return [
        Measurement(
            "dag_parse_seconds_max",
            slowest,
            {"files": len(per_file), "seconds_by_file": {name: summary(v) for name, v in sorted(per_file.items())}},
        )
    ]
