"""Running dbt on the warehouse, in-process.

dbt is invoked through ``dbtRunner`` rather than a subprocess: each CLI
start costs 4–5 s, and a month's run calls dbt once. The profile reads the
same warehouse the ingest wrote to, passed through environment variables
derived from the warehouse URL.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date

from citydw.settings import Settings, get_settings


@dataclass
class BuildResult:
    success: bool
    command: str
    counts: dict[str, int] = field(default_factory=dict)  # status -> nodes
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))
        return f"dbt {self.command}: {'ok' if self.success else 'FAILED'} ({counts})"


def dbt_environment(url: str) -> dict[str, str]:
    from citydw.warehouse.connect import dbt_env

    return {
        **dbt_env(url),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def ensure_raw_tables(url: str, settings: Settings) -> None:
    """Create every registered dataset's raw table, so dbt's sources exist before the first delivery."""
    from citydw.loading import ensure_raw_table
    from citydw.registry import load_registry
    from citydw.warehouse.connect import connect

    registry = load_registry(settings.registry_path)
    with connect(url) as conn, conn.transaction():
        for spec in registry.datasets.values():
            ensure_raw_table(conn, spec)


def run_dbt(
    args: list[str], url: str | None = None, settings: Settings | None = None, as_of: date | None = None
) -> BuildResult:
    """Run one dbt command (``["build"]``, ``["source", "freshness"]`` …) against the warehouse.

    ``as_of`` is the day the delivery ledger counts lateness to (dbt var
    ``citydw_as_of_date``): a run's logical date, so a replayed month reads
    as it did on its schedule; None means today.
    """
    from citydw.warehouse.connect import prepare_warehouse, resolve_warehouse_url

    settings = settings or get_settings()
    url = prepare_warehouse(url or resolve_warehouse_url(settings))
    ensure_raw_tables(url, settings)
    os.environ.update(dbt_environment(url))
    project = settings.dbt_project_path

    from dbt.cli.main import dbtRunner

    invocation = [
        *args,
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--log-path", str(settings.home_dir / "dbt-logs"),
        *(["--vars", json.dumps({"citydw_as_of_date": as_of.isoformat()})] if as_of else []),
    ]  # fmt: skip
    outcome = dbtRunner().invoke(invocation)
    result = BuildResult(success=bool(outcome.success), command=" ".join(args))
    if outcome.exception is not None:
        result.failures.append(str(outcome.exception))
    for node_result in getattr(outcome.result, "results", None) or []:
        status = str(getattr(node_result.status, "value", node_result.status))
        result.counts[status] = result.counts.get(status, 0) + 1
        if status in ("error", "fail", "runtime error"):
            result.failures.append(f"{node_result.node.unique_id}: {node_result.message}")
    return result


def build(
    url: str | None = None, full_refresh: bool = False, settings: Settings | None = None, as_of: date | None = None
) -> BuildResult:
    return run_dbt(["build", *(["--full-refresh"] if full_refresh else [])], url=url, settings=settings, as_of=as_of)
