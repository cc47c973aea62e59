"""The benchmark harness works: a smoke-sized run (``python -m bench run --quick``) writes every key.

This proves the harness, not the speed: it asserts no time. Goals live in
``bench/results.py`` and ``docs/benchmarks.md``, and only ``make bench``
measures against them. The run starts its own embedded PostgreSQL in a
temporary folder, like ``make bench-quick``; ``make demo`` is left out.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
MEASURED = (
    "load_vs_psql_copy",
    "ingest_csv_1m_vs_psql_copy",
    "validation_share",
    "month120_vs_month1",
    "dag_parse_seconds_max",
    "bi_query_p95_ms",
    "peak_rss_mib_1m",
    "ingest_cli_1m_vs_psql_copy",
    "peak_rss_mib_cli_1m",
    "peak_rss_ratio_3m_vs_1m",
    "month_province_vs_city",
    "bi_query_p95_ms_province",
    "history_10y_seconds",
)


@pytest.mark.slow
def test_a_quick_run_writes_every_key_as_a_number(tmp_path: Path) -> None:
    output, work = tmp_path / "quick.json", tmp_path / "work"
    env = {k: v for k, v in os.environ.items() if k not in ("CITYDW_WAREHOUSE_URL", "AIRFLOW_HOME")}
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--quick", "--output", str(output), "--work", str(work), "--no-docs"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    results = json.loads(output.read_text(encoding="utf-8"))

    for key in MEASURED:
        value = results[key]
        assert isinstance(value, float | int) and math.isfinite(value) and value > 0, (key, value)
        entry = results["benchmarks"][key]
        assert entry["min"] <= entry["median"] <= entry["max"], (key, entry)
        assert len(entry["runs"]) >= 1 and entry["median"] == value
        assert isinstance(entry["met"], bool) and entry["goal"].startswith(("<", "<=")), (key, entry)
    assert "demo_seconds" not in results and results["skipped"]["demo_seconds"].startswith("skipped")
    assert results["meta"]["quick"] is True
    assert results["meta"]["machine"]["cores_logical"] >= 1 and results["meta"]["machine"]["memory_gib"] > 0

    # What was measured is what the issue names: the real pipeline, the real files.
    ingest = results["benchmarks"]["ingest_csv_1m_vs_psql_copy"]["details"]
    assert ingest["rows_loaded"] + ingest["rows_quarantined"] == ingest["rows"]
    assert ingest["rows_quarantined"] == ingest["defective_rows"] > 0
    month = results["benchmarks"]["month120_vs_month1"]["details"]
    # On the history, the year's reference data is already there: the same bytes again are "unchanged".
    assert set(month["statuses"].values()) <= {"accepted", "unchanged"}, month["statuses"]
    assert "accepted" in month["statuses"].values()
    assert month["history_raw_rows"] > month["rows_loaded"] > 0
    bi = results["benchmarks"]["bi_query_p95_ms"]["details"]
    assert len(bi["median_ms_by_query"]) == 10
    history = results["benchmarks"]["history_10y_seconds"]["details"]
    # The whole command ran on the generated months, and its build certified some of them.
    assert history["months"] == history["months_in_ledger"] == 3
    assert history["months_certified"] >= 1 and set(history["stages_seconds"]) == {"ingest", "ledger", "build"}

    # The table names every key; no server is left running and the work folder is gone.
    for key in (*MEASURED, "demo_seconds"):
        assert f"`{key}`" in completed.stdout
    left_running = [p.pid for p in psutil.process_iter(["cmdline"]) if str(work) in " ".join(p.info["cmdline"] or [])]
    assert left_running == []
    assert not work.exists()
