"""What a benchmark reports, the goals it is held to, and ``results/latest.json``.

Every key is a number per run; the file keeps the median of the runs at the
top level (the keys the issue names) and, under ``benchmarks``, every run,
min–max, the goal and whether it was met, and what was measured alongside.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


@dataclass(frozen=True)
class Goal:
    op: str | None  # "<=", "<", or None: measured, no goal
    value: float | None
    unit: str
    what: str  # one line for the docs table

    def met(self, measured: float) -> bool | None:
        if self.op is None or self.value is None:
            return None
        return measured <= self.value if self.op == "<=" else measured < self.value

    def __str__(self) -> str:
        return "—" if self.op is None else f"{self.op} {self.value:g}"


GOALS: dict[str, Goal] = {
    "load_vs_psql_copy": Goal(
        "<=", 1.2, "×", "load of 1M rows × 12 columns into its raw table ÷ `psql \\copy` of the same rows"
    ),
    "ingest_csv_1m_vs_psql_copy": Goal(
        "<=", 4, "×", "whole ingest of a 1M-row CSV delivery ÷ `psql \\copy` of its rows"
    ),
    "validation_share": Goal(
        "<=", 0.5, "share", "share of that ingest spent validating (GX suite + the rule pack's dataset rules)"
    ),
    "ingest_cli_1m_vs_psql_copy": Goal(
        "<=", 2.0, "×", "`citydw ingest` of the 1M-row CSV as a whole process ÷ `psql \\copy` of its rows, also one"
    ),
    "peak_rss_mib_cli_1m": Goal("<=", 800, "MiB", "peak resident memory of that whole `citydw ingest` command"),
    "peak_rss_ratio_3m_vs_1m": Goal(
        "<=", 1.25, "×", "peak of the same command on a 3M-row delivery ÷ on the 1M-row one"
    ),
    "month120_vs_month1": Goal(
        "<=", 1.3, "×", "one month's pipeline (ingest + dbt build) on 10 years of history ÷ on an empty warehouse"
    ),
    "dag_parse_seconds_max": Goal("<", 0.5, "s", "slowest DAG file's parse time (`airflow dags report`)"),
    "bi_query_p95_ms": Goal("<", 100, "ms", "p95 latency of the ten questions' queries at 10 years of history"),
    "month_province_vs_city": Goal(
        "<=",
        1.3,
        "×",
        "one month's pipeline at 100× the demo's rows on 10 years of 100× history ÷ the same month at 1×",
    ),
    "bi_query_p95_ms_province": Goal(
        "<", 100, "ms", "p95 latency of the ten questions' queries on 10 years of history at 100× the demo's rows"
    ),
    "peak_rss_mib_1m": Goal("<", 1536, "MiB", "peak resident memory of the 1M-row ingest"),
    "history_10y_seconds": Goal(
        "<=",
        600,
        "s",
        "ten years of the demo city's deliveries to certified marts: `citydw load-history`, whole command",
    ),
    "demo_seconds": Goal(None, None, "s", "`make demo` wall time, environment installed"),
}
"""The issue's goals. It sets none for validation_share (ours: validation must not dominate an
ingest) nor for demo_seconds (measured, to see it change)."""

KEYS = tuple(GOALS)


@dataclass
class Measurement:
    """One key's runs, and what else was measured in the same runs."""

    key: str
    runs: list[float]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def as_json(self) -> dict[str, Any]:
        goal = GOALS[self.key]
        return {
            "median": _round(self.median),
            "min": _round(min(self.runs)),
            "max": _round(max(self.runs)),
            "runs": [_round(r) for r in self.runs],
            "unit": goal.unit,
            "goal": str(goal),
            "met": goal.met(self.median),
            "details": self.details,
        }


def _round(value: float) -> float:
    return round(value, 4) if math.isfinite(value) else value


def summary(values: list[float]) -> dict[str, float]:
    """Median and min–max of a list of run values, for details."""
    return {"median": _round(statistics.median(values)), "min": _round(min(values)), "max": _round(max(values))}


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.95 for p95)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def write(path: Path, meta: dict[str, Any], measurements: list[Measurement], skipped: dict[str, str]) -> dict:
    document: dict[str, Any] = {m.key: _round(m.median) for m in measurements}
    document["meta"] = meta
    document["benchmarks"] = {m.key: m.as_json() for m in measurements}
    document["skipped"] = skipped
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return document
