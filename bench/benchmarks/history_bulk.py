"""``history_10y_seconds``: ten years of the demo city's deliveries, from files to certified marts.

The deliveries of 2012-07 … 2022-06 are generated beforehand
(``citydw demo generate``, not timed; how long it took is recorded beside),
then the whole command a user runs is timed, as a process of its own:

    citydw load-history --from 2012-07 --to 2022-06 --demo-apis

on a database that does not exist yet on the bench's embedded server (the
command creates and migrates it, as on a fresh clone), with the API
departments served from the generated feeds as in ``make demo``. Its own
report of the ingest, ledger and build seconds is kept beside, and the
certified months are counted in ``marts.dim_report_month``. One run: the
figure is about ten minutes long and its noise is small beside the goal.
``--quick``: the three months 2022-04 … 2022-06.
"""

from __future__ import annotations

import re
import subprocess
import time
from datetime import date

import psycopg

from bench.context import REPO, Bench
from bench.machine import load_average
from bench.results import Measurement
from citydw.demo.generate import generate

FULL = (date(2012, 7, 1), date(2022, 6, 1))
QUICK = (date(2022, 4, 1), date(2022, 6, 1))
DATABASE = "bench_history_bulk"
SEED = 2022
_STAGES = re.compile(r"ingest (?P<ingest>\d+) s, ledger (?P<ledger>\d+) s, build (?P<build>\d+) s")


def run(bench: Bench) -> list[Measurement]:
    first, last = QUICK if bench.quick else FULL
    drop = bench.work / "history-drop"
    home = bench.work / "history-home"
    bench.log(f"  generating the demo city's deliveries {first:%Y-%m}..{last:%Y-%m}")
    start = time.perf_counter()
    files = generate(str(drop), first, last, seed=SEED)
    generate_seconds = time.perf_counter() - start

    bench.warehouse.drop(DATABASE)
    url = bench.warehouse.url(DATABASE)
    env = bench.child_env(url, CITYDW_HOME=str(home), CITYDW_DROP_URL=str(drop))
    command = ["load-history", "--from", f"{first:%Y-%m}", "--to", f"{last:%Y-%m}", "--demo-apis"]
    log = bench.work / "history-bulk.log"
    load_before = load_average()
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as output:
        completed = subprocess.run(
            [str(REPO / ".venv" / "bin" / "citydw"), *command],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    seconds = time.perf_counter() - start
    text = log.read_text(encoding="utf-8")
    if completed.returncode != 0:
        raise RuntimeError(f"citydw load-history failed (exit {completed.returncode}); see {log}:\n{text[-2000:]}")
    stages = _STAGES.search(text)
    with psycopg.connect(url) as conn:
        months, certified = conn.execute(
            "select count(*), count(*) filter (where is_certified) from marts.dim_report_month"
            " where report_month between %s and %s",
            (first, last),
        ).fetchone()
    bench.warehouse.drop(DATABASE)
    bench.log(f"  load-history {first:%Y-%m}..{last:%Y-%m}: {seconds:.0f}s ({stages.group(0) if stages else '?'})")
    details = {
        "command": "citydw " + " ".join(command),
        "months": (last.year - first.year) * 12 + last.month - first.month + 1,
        "files_generated": len(files),
        "generate_seconds": round(generate_seconds, 1),
        "stages_seconds": {k: int(v) for k, v in stages.groupdict().items()} if stages else None,
        "months_in_ledger": months,
        "months_certified": certified,
        "load_average_1m": {"start": load_before, "end": load_average()},
        "runs_note": "1 run: a ten-minute figure whose noise is small beside the goal",
    }
    return [Measurement("history_10y_seconds", [seconds], details)]
