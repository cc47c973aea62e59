"""What the DAG tasks and the CLI call: small functions with small results.

Airflow tasks pass only strings and dicts between them; everything heavy
(pandas, GX, dbt) is imported here, inside the task's process, never when
a DAG file is parsed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from citydw.months import parse_month, previous_month
from citydw.pipeline import Context, IngestResult, ingest
from citydw.sources.filedrop import candidate_from_file

log = logging.getLogger(__name__)


def report_month_for_run(month_param: str | None, logical_date: datetime | None) -> str:
    """The month a run reports on: the ``month`` param if given, else the month before the run's date.

    A scheduled run on 12 August reports on July. A manual ``airflow dags
    test`` run has a zero-length data interval, so the interval cannot be
    used; the logical date and the param can.
    """
    if month_param:
        return f"{parse_month(month_param):%Y-%m}"
    if logical_date is None:
        raise ValueError("a run needs either a 'month' param (YYYY-MM) or a logical date")
    return f"{previous_month(logical_date):%Y-%m}"


def datasets_for_month(month: str, only: list[str] | None = None) -> list[str]:
    """Dataset ids a run for ``month`` ingests: every dataset of the registry, or ``only``.

    Yearly reference data is looked for in every run (for the year before, see
    ``DatasetSpec.period_for``): once it has arrived, the same bytes are a no-op.
    """
    context = Context.load()
    if only:
        return [context.registry.dataset(d).id for d in only]
    return list(context.registry.datasets)


def ingest_dataset(
    dataset_id: str, month: str, file: str | None = None, url: str | None = None, *, confirm_shrink: bool = False
) -> IngestResult:
    """Ingest one dataset for one month; a delivery problem is a result, not an exception."""
    from citydw.warehouse.connect import connect

    context = Context.load()
    spec = context.registry.dataset(dataset_id)
    candidates = [candidate_from_file(file)] if file else None
    with connect(url, autocommit=True) as conn:
        return ingest(
            conn, spec, spec.period_for(parse_month(month)), context, candidates, confirm_shrink=confirm_shrink
        )


def reinstate_version(dataset_id: str, month: str, version: str, url: str | None = None) -> IngestResult:
    """Make version ``vN`` of a dataset's month the accepted one again (``citydw ingest --reinstate vN``)."""
    from citydw.pipeline import reinstate
    from citydw.warehouse.connect import connect

    number = version.strip().lower().removeprefix("v")
    if not number.isdigit() or int(number) < 1:
        raise ValueError(f"--reinstate {version!r}: give a version as vN, e.g. v1")
    context = Context.load()
    spec = context.registry.dataset(dataset_id)
    with connect(url, autocommit=True) as conn:
        return reinstate(conn, spec, spec.period_for(parse_month(month)), int(number), context)


def ingest_month(
    month: str,
    datasets: list[str] | None = None,
    file: str | None = None,
    url: str | None = None,
    *,
    confirm_shrink: bool = False,
) -> list[IngestResult]:
    """Ingest every dataset for ``month``; one dataset's failure never stops the others.

    What the operator asked for is checked first (the month, the datasets,
    the file), so a mistake there is one error, not one per dataset.
    """
    report_month = parse_month(month)
    if file and (not datasets or len(datasets) != 1):
        raise ValueError("--file needs exactly one --dataset: which dataset is this file?")
    dataset_ids = datasets_for_month(month, datasets)
    if file:
        _check_file_exists(file)
    results = []
    for dataset_id in dataset_ids:
        try:
            results.append(ingest_dataset(dataset_id, month, file=file, url=url, confirm_shrink=confirm_shrink))
        except Exception as error:
            log.exception("ingest of %s for %s failed", dataset_id, month)
            results.append(
                IngestResult(
                    dataset=dataset_id, report_month=report_month, status="error",
                    reason=f"{type(error).__name__}: {error}",
                )
            )  # fmt: skip
    return results


def _check_file_exists(file: str) -> None:
    import fsspec

    fs, path = fsspec.core.url_to_fs(file)
    if not fs.isfile(path):
        raise FileNotFoundError(f"--file {file}: no such file")
