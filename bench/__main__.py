"""``python -m bench run [--quick]`` runs the benchmarks; ``python -m bench docs`` renders the docs table.

python -m bench run                 # make bench: issue sizes, 3 runs each, make demo too; writes
                                    # bench/results/latest.json and the table in docs/benchmarks.md
python -m bench run --skip-demo     # the same without make demo (the long one)
python -m bench run --quick         # make bench-quick: small sizes, a smoke run (< 5 min);
                                    # writes bench/results/quick.json, leaves the docs alone
python -m bench docs                # docs/benchmarks.md's table from bench/results/latest.json
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

# Nothing a benchmark runs sends usage data anywhere (as in the Makefile).
for _name, _value in {
    "GX_ANALYTICS_ENABLED": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
    "SCARF_ANALYTICS": "false",
}.items():
    os.environ.setdefault(_name, _value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the benchmarks")
    run.add_argument("--quick", action="store_true", help="small sizes, for a smoke run (no make demo)")
    run.add_argument("--runs", type=int, help="runs of every benchmark (default 3; quick: 3, 1 for the long ones)")
    run.add_argument("--skip-demo", action="store_true", help="leave out make demo")
    run.add_argument("--demo-runs", type=int, default=3, help="runs of make demo (default 3)")
    run.add_argument("--only", help="comma-separated benchmarks or keys: dags, load, ingest, month, demo")
    run.add_argument(
        "--output", type=Path, help="results file (default bench/results/latest.json; quick.json, partial.json)"
    )
    run.add_argument("--work", type=Path, help="work folder (default: a new temporary one)")
    run.add_argument("--keep", action="store_true", help="keep the work folder")
    run.add_argument("--profile", action="store_true", help="profile one more 1M ingest (pyinstrument)")
    run.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    docs = commands.add_parser("docs", help="regenerate docs/benchmarks.md's table from a results file")
    docs.add_argument("--results", type=Path, help="default bench/results/latest.json")
    args = parser.parse_args(argv)

    if args.command == "docs":
        from bench import docs as docs_module

        return docs_module.main(args.results or docs_module.RESULTS)

    from bench.runner import Options
    from bench.runner import run as run_benchmarks

    return run_benchmarks(
        Options(
            quick=args.quick,
            runs=args.runs,
            output=args.output,
            skip_demo=args.skip_demo,
            demo_runs=args.demo_runs,
            only=tuple(s.strip() for s in (args.only or "").split(",") if s.strip()),
            work=args.work,
            keep=args.keep,
            profile=args.profile,
            update_docs=not args.no_docs,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
