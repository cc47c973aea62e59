"""Loading years of past deliveries at once: every month ingested, then one dbt build.

``citydw load-history --from 2012-07 --to 2022-06`` takes a warehouse to the
state that running the monthly DAG for each month in turn would leave it in
(``citydw run --month 2012-07 --to 2022-06``), in a fraction of the time:

1. **Ingest every month of every dataset.** The same call the DAG's ingest
   tasks make (:func:`citydw.pipeline.ingest`, which fetches from the file
   drop or the department's API as configured), with the same report months
   (yearly reference data is looked for in every month's run). A dataset's
   months go in order, because its rules compare a month with the month
   before (row-count collapse, cumulative figures). Different datasets are
   independent and go to a pool of long-lived worker processes (2 by
   default), each importing great_expectations once. Datasets whose rules
   read each other's rows (``known_in_dataset``, the bulletin against the
   bonds) form one *group* that a single worker ingests month by month, in
   the registry's order, exactly as a month-by-month run interleaves them.
2. **What each month's report does to the ledger**: the delivery schedule
   and every dataset's correction cases of the month, with deadlines
   counted to that month's scheduled run day (as ``citydw_report`` does
   after each monthly build). The report files themselves are not written:
   ``citydw report --month YYYY-MM --as-of YYYY-MM-DD --no-notify --no-build``
   writes one when someone needs it, from the marts as they are.
3. **One dbt build**, as of the last month's scheduled run day, as the
   last monthly run's build would be: on an empty warehouse a first build
   of every month, on a loaded one an incremental build of the months whose
   inputs changed (``incremental_by_month``). It certifies the months
   (``marts.dim_report_month``).
4. **The projects' status history** (``project_status_snapshot``): a dbt
   snapshot records, at each build, the statuses of the latest month, so
   one build would see only the last month. It is replayed month by month
   in SQL, as each monthly build would have recorded it (dbt's ``check``
   strategy), then ``dim_project`` and what reads it are built again.

The marts are identical to month-by-month runs' (``tests/ingestion/test_history_load.py``
compares every mart on two years); only wall-clock columns (when a version
was decided, hence ``accepted_at`` and ``certified_at``) differ, as between any
two runs.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from citydw.months import month_range, next_month
from citydw.registry import Registry
from citydw.settings import Settings, get_settings

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2
SCHEDULED_RUN_DAY = 12
"""The monthly DAG runs on the 12th for the month before (``dags/citydw_monthly.py``)."""

# Dataset rules that read another dataset's rows: (rule, config key naming the other dataset or None).
# ``bulletin_agrees_with_bonds`` links the datasets that both declare it (the bonds and the bulletin).
_CROSS_DATASET_RULES = {"known_in_dataset": "dataset", "bulletin_agrees_with_bonds": None}


def scheduled_run_day(month: date) -> date:
    """The day the scheduled monthly run for ``month`` happens: lateness and deadlines count to it."""
    return next_month(month).replace(day=SCHEDULED_RUN_DAY)


def dataset_groups(registry: Registry, expectations_dir: Path) -> list[list[str]]:
    """The registry's datasets in groups that must be ingested together, each in the registry's order.

    Two datasets are in one group when a dataset rule of one reads the
    other's rows (see ``_CROSS_DATASET_RULES``): then the order in which their
    months are ingested changes what the rule sees. Groups come largest first.
    """
    from citydw.quality.checks import suite_checks
    from citydw.validation.suites import read_suite_document

    order = list(registry.datasets)
    leader = {dataset: dataset for dataset in order}

    def find(dataset: str) -> str:
        while leader[dataset] != dataset:
            dataset = leader[dataset]
        return dataset

    def join(one: str, other: str) -> None:
        if other in leader:
            leader[find(other)] = find(one)

    shared_rules: dict[str, str] = {}
    for dataset, spec in registry.datasets.items():
        for check in suite_checks(read_suite_document(expectations_dir / spec.suite_file)):
            rule = check.get("check")
            if rule not in _CROSS_DATASET_RULES:
                continue
            key = _CROSS_DATASET_RULES[rule]
            if key is not None:
                join(dataset, check[key])
            elif rule in shared_rules:
                join(shared_rules[rule], dataset)
            else:
                shared_rules[rule] = dataset
    groups: dict[str, list[str]] = {}
    for dataset in order:
        groups.setdefault(find(dataset), []).append(dataset)
    return sorted(groups.values(), key=len, reverse=True)


@dataclass
class GroupOutcome:
    """What one group's ingest of every month did: per dataset and month, the status; the errors."""

    datasets: list[str]
    seconds: float
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)  # dataset -> status -> months
    errors: list[str] = field(default_factory=list)  # "dataset YYYY-MM: reason"

    def summary(self) -> str:
        parts = []
        for dataset in self.datasets:
            counts = ", ".join(f"{n} {status}" for status, n in sorted(self.statuses.get(dataset, {}).items()))
            parts.append(f"{dataset} ({counts})")
        return f"{'; '.join(parts)} in {self.seconds:.0f} s"


@dataclass
class HistoryOutcome:
    first: date
    last: date
    groups: list[GroupOutcome]
    ingest_seconds: float
    ledger_seconds: float
    build_seconds: float
    build_summary: str
    build_success: bool
    build_failures: list[str]

    @property
    def errors(self) -> list[str]:
        return [error for group in self.groups for error in group.errors]

    @property
    def succeeded(self) -> bool:
        return self.build_success and not self.errors

    def summary(self) -> str:
        months = len(month_range(self.first, self.last))
        return (
            f"load-history {self.first:%Y-%m}..{self.last:%Y-%m}: {months} months, "
            f"ingest {self.ingest_seconds:.0f} s, ledger {self.ledger_seconds:.0f} s, "
            f"build {self.build_seconds:.0f} s; {self.build_summary}"
        )


def _warm_up() -> None:
    """A worker's start: import what every ingest needs once, before its first dataset."""
    import great_expectations  # noqa: F401  # 2–3 s, once per worker instead of once per ingest

    import citydw.pipeline
    import citydw.quality.checks
    import citydw.validation.runner  # noqa: F401


def ingest_group(datasets: list[str], months: list[str], url: str) -> GroupOutcome:
    """Ingest ``datasets`` for every month, month by month, on one connection (a worker's task)."""
    from citydw.months import parse_month
    from citydw.pipeline import Context, ingest
    from citydw.warehouse.connect import connect

    started = time.perf_counter()
    context = Context.load()
    outcome = GroupOutcome(datasets=datasets, seconds=0.0)
    with connect(url, autocommit=True) as conn:
        for text in months:
            month = parse_month(text)
            for dataset in datasets:
                spec = context.registry.dataset(dataset)
                try:
                    result = ingest(conn, spec, spec.period_for(month), context)
                    status, reason = result.status, result.reason
                except Exception as error:  # one month's failure never stops the others, as in ingest_month
                    log.exception("ingest of %s for %s failed", dataset, text)
                    status, reason = "error", f"{type(error).__name__}: {error}"
                counts = outcome.statuses.setdefault(dataset, {})
                counts[status] = counts.get(status, 0) + 1
                if status == "error":
                    outcome.errors.append(f"{dataset} {text}: {reason}")
    outcome.seconds = time.perf_counter() - started
    return outcome


def ingest_months(
    months: list[date],
    url: str,
    settings: Settings,
    workers: int = DEFAULT_WORKERS,
    on_group: Callable[[GroupOutcome], None] | None = None,
) -> list[GroupOutcome]:
    """Every dataset's every month, groups spread over ``workers`` processes; the groups' outcomes."""
    from citydw.registry import load_registry

    registry = load_registry(settings.registry_path)
    groups = dataset_groups(registry, settings.expectations_path)
    texts = [f"{month:%Y-%m}" for month in months]
    if workers <= 1:
        _warm_up()
        outcomes = []
        for group in groups:
            outcomes.append(ingest_group(group, texts, url))
            if on_group:
                on_group(outcomes[-1])
        return outcomes
    # spawn, not fork: a forked child would share this process's open connections and threads.
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_warm_up
    )
    outcomes = []
    with pool:
        pending: set[Future[GroupOutcome]] = {pool.submit(ingest_group, group, texts, url) for group in groups}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                outcomes.append(future.result())
                if on_group:
                    on_group(outcomes[-1])
    return outcomes


def update_ledger(months: list[date], url: str, settings: Settings) -> None:
    """What each month's report run does to the ledger (``prepare_month``), as of its scheduled run day.

    The schedule is refreshed once, up to the last month: a report refreshes
    it from the first month to its own, which is the same rows again and
    again (idempotent), and 1.4 s a month at ten years (44 s in all).
    """
    from citydw.city import load_city
    from citydw.quality.ledger import refresh_schedule
    from citydw.quality.report import sync_month_cases
    from citydw.registry import load_registry
    from citydw.warehouse.connect import connect

    registry = load_registry(settings.registry_path)
    city = load_city(settings.city_dir)
    with connect(url, autocommit=True) as conn:
        refresh_schedule(conn, registry, up_to=months[-1])
        for month in months:
            sync_month_cases(conn, registry, city, month, scheduled_run_day(month))


SNAPSHOT = "project_status_snapshot"
SNAPSHOT_SOURCE = "fct_project_progress_monthly"
"""The snapshot replayed, and the mart its source view (``int_project_status_latest``) reads the latest month of."""


def snapshot_config(settings: Settings) -> dict:
    import yaml

    document = yaml.safe_load((settings.dbt_project_path / "snapshots" / f"{SNAPSHOT}.yml").read_text("utf-8"))
    return next(item for item in document["snapshots"] if item["name"] == SNAPSHOT)["config"]


def replay_project_snapshot(first: date, last: date, url: str, settings: Settings) -> int:
    """Record ``project_status_snapshot`` as one build per month ``first``..``last`` would have; returns versions.

    What the build just made of it (the last month only) and anything
    recorded from ``first`` on is undone first; versions recorded before
    ``first`` stay, so loading newer months onto a warehouse with history
    continues it. Each month with projects is then recorded as dbt's check
    strategy records it: a project whose checked columns differ from its
    current version (or that has none) gets a new version from that month,
    and the current one ends there.
    """
    from psycopg import sql

    from citydw.warehouse.connect import connect

    config = snapshot_config(settings)
    key, checked = config["unique_key"], config["check_cols"]
    snapshot = sql.Identifier(config.get("schema", "intermediate"), SNAPSHOT)
    source = sql.Identifier("marts", SNAPSHOT_SOURCE)
    with connect(url) as conn, conn.transaction():
        columns = [
            row[0]
            for row in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
                " and column_name not like 'dbt\\_%%' order by ordinal_position",
                (config.get("schema", "intermediate"), SNAPSHOT),
            )
        ]
        # int_project_status_latest: the mart's columns of the latest month, report_month as observed_month.
        selected = sql.SQL(", ").join(
            sql.SQL("report_month::timestamp as observed_month")
            if column == "observed_month"
            else sql.Identifier(column)
            for column in columns
        )
        listed = sql.SQL(", ").join(map(sql.Identifier, columns))
        conn.execute(sql.SQL("delete from {} where dbt_valid_from >= %s").format(snapshot), (first,))
        conn.execute(sql.SQL("update {} set dbt_valid_to = null where dbt_valid_to >= %s").format(snapshot), (first,))
        months = [
            row[0]
            for row in conn.execute(
                sql.SQL("select distinct report_month from {} where report_month between %s and %s order by 1").format(
                    source
                ),
                (first, last),
            )
        ]
        changed_condition = sql.SQL(" or ").join(
            sql.SQL("current_version.{column} is distinct from month_rows.{column}").format(
                column=sql.Identifier(column)
            )
            for column in checked
        )
        for month in months:
            conn.execute("drop table if exists pg_temp.changed_projects")
            conn.execute(
                sql.SQL(
                    "create temporary table changed_projects as"
                    " select month_rows.* from (select {selected} from {source} where report_month = %s) as month_rows"
                    " left join {snapshot} as current_version"
                    " on current_version.{key} = month_rows.{key} and current_version.dbt_valid_to is null"
                    " where current_version.{key} is null or {changed}"
                ).format(
                    selected=selected,
                    source=source,
                    snapshot=snapshot,
                    key=sql.Identifier(key),
                    changed=changed_condition,
                ),
                (month,),
            )
            conn.execute(
                sql.SQL(
                    "update {snapshot} set dbt_valid_to = %s::timestamp where dbt_valid_to is null"
                    " and {key} in (select {key} from changed_projects)"
                ).format(snapshot=snapshot, key=sql.Identifier(key)),
                (month,),
            )
            # dbt_scd_id as dbt's snapshot_hash_arguments([unique_key, updated_at]) computes it.
            conn.execute(
                sql.SQL(
                    "insert into {snapshot} ({listed}, dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to)"
                    " select {listed}, md5(coalesce(cast({key} as varchar), '') || '|'"
                    " || coalesce(cast(observed_month as varchar), '')), observed_month, observed_month, null"
                    " from changed_projects"
                ).format(snapshot=snapshot, listed=listed, key=sql.Identifier(key))
            )
        counted = conn.execute(sql.SQL("select count(*) from {}").format(snapshot)).fetchone()
        return int(counted[0]) if counted else 0


def load_history(
    first: date,
    last: date,
    *,
    workers: int = DEFAULT_WORKERS,
    url: str | None = None,
    settings: Settings | None = None,
    on_group: Callable[[GroupOutcome], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> HistoryOutcome:
    """Report months ``first``..``last``: every delivery ingested, the ledger, one dbt build (module doc)."""
    from citydw.transform import build, ensure_raw_tables, run_dbt
    from citydw.warehouse.connect import prepare_warehouse, resolve_warehouse_url

    if last < first:
        raise ValueError(f"--to {last:%Y-%m} is before --from {first:%Y-%m}.")
    if workers < 1:
        raise ValueError(f"--workers {workers}: give 1 or more.")
    settings = settings or get_settings()
    months = month_range(first, last)
    url = prepare_warehouse(url or resolve_warehouse_url(settings))
    ensure_raw_tables(url, settings)  # before the workers start: no two of them create one at once

    started = time.perf_counter()
    if on_stage:
        on_stage(f"ingest: {len(months)} months, {workers} worker(s)")
    groups = ingest_months(months, url, settings, workers=workers, on_group=on_group)
    ingested = time.perf_counter()
    if on_stage:
        on_stage("ledger: delivery schedule and correction cases, month by month")
    update_ledger(months, url, settings)
    ledgered = time.perf_counter()
    if on_stage:
        on_stage(f"build: dbt build as of {scheduled_run_day(last)}")
    result = build(url=url, settings=settings, as_of=scheduled_run_day(last))
    if result.success:
        if on_stage:
            on_stage("project history: the status snapshot month by month, then dim_project again")
        replay_project_snapshot(first, last, url, settings)
        rebuilt = run_dbt(
            ["build", "--select", f"{SNAPSHOT}+"], url=url, settings=settings, as_of=scheduled_run_day(last)
        )
        result.success, result.failures = rebuilt.success, result.failures + rebuilt.failures
    built = time.perf_counter()
    return HistoryOutcome(
        first=first,
        last=last,
        groups=groups,
        ingest_seconds=ingested - started,
        ledger_seconds=ledgered - ingested,
        build_seconds=built - ledgered,
        build_summary=result.summary(),
        build_success=result.success,
        build_failures=result.failures,
    )
