"""The ``citydw`` command line. Each command is a thin shell over a package function."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from citydw.months import month_range, parse_month

app = typer.Typer(help="citydw — the city's monthly construction data pipeline and warehouse.", no_args_is_help=True)
warehouse_app = typer.Typer(help="The embedded PostgreSQL warehouse (data under .citydw/).", no_args_is_help=True)
demo_app = typer.Typer(help="The sample city: its deliveries, in the real formats.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
cluster_app = typer.Typer(
    help="Airflow on Celery on localhost: Redis, scheduler, DAG processor, API server, two workers.",
    no_args_is_help=True,
)
app.add_typer(demo_app, name="demo")
app.add_typer(cluster_app, name="cluster")

Month = Annotated[str, typer.Option("--month", help="Report month, YYYY-MM.")]


def _echo_month_outcome(month) -> None:
    from citydw.summary import month_outcome
    from citydw.warehouse.connect import connect

    with connect() as conn:
        for line in month_outcome(conn, month):
            typer.echo(line)


def _fail(message: str) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code=1)


@warehouse_app.command("up")
def warehouse_up() -> None:
    """Start the embedded warehouse (idempotent) and print its URL."""
    from citydw.warehouse import embedded
    from citydw.warehouse.connect import prepare_warehouse, redact_url

    url = prepare_warehouse(embedded.up())
    typer.echo(f"warehouse running: {redact_url(url)}")


@warehouse_app.command("down")
def warehouse_down() -> None:
    """Stop the embedded warehouse; its data stays under .citydw/warehouse."""
    from citydw.warehouse import embedded

    typer.echo("warehouse stopped" if embedded.down() else "warehouse was not running")


@warehouse_app.command("status")
def warehouse_status() -> None:
    """Say whether the embedded warehouse runs, where, and on which port."""
    from citydw.warehouse import embedded

    status = embedded.status()
    for key, value in vars(status).items():
        if key != "url" or status.running:
            typer.echo(f"{key:>10}: {value}")
    if not status.running:
        raise typer.Exit(code=3)


@warehouse_app.command("url")
def warehouse_url() -> None:
    """Print the warehouse's connection URL (CITYDW_WAREHOUSE_URL, or the embedded one)."""
    from citydw.settings import get_settings
    from citydw.warehouse.connect import resolve_warehouse_url

    typer.echo(resolve_warehouse_url(get_settings()))


@demo_app.command("generate")
def demo_generate(
    first: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")] = "2022-01",
    last: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")] = "2022-12",
    out: Annotated[str | None, typer.Option(help="Drop folder or fsspec URL; default the configured drop.")] = None,
    seed: int = 2022,
    defect_rate: Annotated[float, typer.Option(help="Scale of injected defects; 0 for none.")] = 1.0,
) -> None:
    """Write the sample city's deliveries for a range of months, with realistic defects."""
    from citydw.demo.generate import generate
    from citydw.settings import get_settings

    target = out or get_settings().drop_root
    files = generate(target, parse_month(first), parse_month(last), seed=seed, defect_rate=defect_rate)
    typer.echo(f"wrote {len(files)} files under {target}")


@demo_app.command("run")
def demo_run(
    first: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")] = "2022-01",
    last: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")] = "2022-12",
) -> None:
    """Run the monthly DAG for each month of the sample year, with the departments' APIs served locally."""
    from citydw.demo.run import run_months

    states = run_months(month_range(parse_month(first), parse_month(last)), on_month=_echo_month_outcome)
    failed = [f"{m:%Y-%m}" for m, state in states.items() if state != "success"]
    if failed:
        _fail(f"runs that did not succeed: {', '.join(failed)}")


@demo_app.command("serve")
def demo_serve(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1.")] = 8765,
) -> None:
    """Serve the generated API departments' feeds until interrupted (token: CITYDW_DEMO_API_TOKEN)."""
    from pathlib import Path

    from citydw.demo.api_server import run_forever
    from citydw.demo.run import API_FOLDER
    from citydw.settings import get_settings

    run_forever(Path(get_settings().drop_root) / API_FOLDER, port=port)


@demo_app.command("summary")
def demo_summary() -> None:
    """Print what the warehouse holds, where the reports are, and how a BI tool connects."""
    from citydw.settings import get_settings
    from citydw.summary import render
    from citydw.warehouse.connect import connect, prepare_warehouse, resolve_warehouse_url

    settings = get_settings()
    url = prepare_warehouse(resolve_warehouse_url(settings))
    with connect(url) as conn:
        typer.echo(render(conn, url, settings))


@app.command()
def ingest(
    month: Month,
    dataset: Annotated[list[str] | None, typer.Option(help="DEPT.DATASET; repeat for several; default all.")] = None,
    file: Annotated[str | None, typer.Option(help="Take this file (path or URL) instead of fetching.")] = None,
) -> None:
    """Fetch (or take the given file), archive, parse, validate and load; one line per dataset."""
    from citydw.orchestration import ingest_month

    try:
        results = ingest_month(month, datasets=dataset, file=file)
    except (ValueError, KeyError) as error:
        _fail(str(error))
    for result in results:
        typer.echo(result.summary())
        shown = result.problems[:10]
        for problem in shown:
            typer.echo(f"    {problem.describe()}")
        if len(result.problems) > len(shown):
            typer.echo(f"    … {len(result.problems) - len(shown)} more in meta.quarantine / meta.validation_results")
    if any(r.status == "error" for r in results):
        raise typer.Exit(code=2)


@app.command()
def build(full_refresh: Annotated[bool, typer.Option(help="Rebuild incremental models from scratch.")] = False) -> None:
    """dbt build of the warehouse: seeds, models, snapshots and their tests."""
    from citydw.transform import build as dbt_build

    result = dbt_build(full_refresh=full_refresh)
    typer.echo(result.summary())
    for failure in result.failures:
        typer.echo(f"    {failure}", err=True)
    if not result.success:
        raise typer.Exit(code=1)


@app.command()
def report(
    month: Month,
    build: Annotated[bool, typer.Option(help="Rebuild the quality marts first.")] = True,
    notify: Annotated[bool, typer.Option(help="Send the correction notices and alerts.")] = True,
) -> None:
    """The month's data-quality report, correction workbooks and notices (what citydw_report runs)."""
    from citydw.quality.report import run as run_report

    result = run_report(month, build=build, notify=notify)
    typer.echo(result.summary())


@app.command()
def brief(
    month: Month,
    send: Annotated[
        bool, typer.Option(help="Send it to the leaders' list (registry/recipients/leaders.yaml).")
    ] = False,
) -> None:
    """The leaders' monthly brief: <reports>/YYYY-MM/brief/index.html and brief.pdf (citydw_report also sends it)."""
    from citydw.brief.run import run as run_brief

    result = run_brief(month, send=send)
    typer.echo(result.summary())


@app.command()
def watch(
    as_of: Annotated[str, typer.Option("--as-of", help="The day to check, YYYY-MM-DD.")],
    month: Annotated[str | None, typer.Option("--month", help="Report month; default the month before.")] = None,
    ingest_files: Annotated[bool, typer.Option("--ingest/--no-ingest", help="Fetch new deliveries first.")] = True,
) -> None:
    """The daily chase in the delivery window: reminders before due dates, escalation after."""
    from citydw.quality.watch import watch as run_watch

    result = run_watch(as_of, month, ingest=ingest_files)
    typer.echo(result.summary())


@app.command()
def waive(
    dataset: Annotated[str, typer.Option(help="DEPT.DATASET")],
    month: Month,
    reason: Annotated[str, typer.Option(help="Why the month need not wait for this delivery.")] = "",
    by: Annotated[str, typer.Option("--by", help="Who decided.")] = "",
    revoke: Annotated[bool, typer.Option(help="Revoke the active waiver instead.")] = False,
) -> None:
    """Waive (or un-waive) a dataset's delivery for a month, so the month can be certified."""
    from citydw.quality import ledger
    from citydw.warehouse.connect import connect

    with connect(autocommit=True) as conn:
        if revoke:
            done = ledger.revoke_waiver(conn, dataset, parse_month(month), revoked_by=by)
            typer.echo("waiver revoked" if done else "no active waiver")
            return
        try:
            waiver = ledger.waive(conn, dataset, parse_month(month), reason=reason, waived_by=by)
        except ledger.WaiverError as error:
            _fail(str(error))
        typer.echo(f"waiver {waiver} recorded: {dataset} {month} ({reason}, {by})")


@app.command()
def run(
    month: Month,
    to: Annotated[str | None, typer.Option("--to", help="Last month of a range, YYYY-MM.")] = None,
) -> None:
    """Run the monthly Airflow DAG in-process for a month (or each month of a range, in order)."""
    from citydw import airflow_local

    months = month_range(parse_month(month), parse_month(to)) if to else [parse_month(month)]
    failed = []
    for report_month in months:
        state = airflow_local.run_month(report_month)
        typer.echo(f"citydw_monthly {report_month:%Y-%m}: {state}")
        _echo_month_outcome(report_month)
        if state != "success":
            failed.append(report_month)
    if failed:
        _fail(f"runs that did not succeed: {', '.join(f'{m:%Y-%m}' for m in failed)}")


@cluster_app.command("up")
def cluster_up(
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Start it and return; `citydw cluster down` stops it.")
    ] = False,
) -> None:
    """Start the local distributed Airflow over the warehouse (Ctrl-C stops it unless --detach)."""
    from citydw.cluster import service
    from citydw.cluster.local import ClusterError

    try:
        service.up(detach=detach, echo=typer.echo)
    except ClusterError as error:
        _fail(str(error))


@cluster_app.command("down")
def cluster_down() -> None:
    """Stop a detached local cluster."""
    from citydw.cluster import service

    for line in service.down():
        typer.echo(line)


@cluster_app.command("status")
def cluster_status() -> None:
    """Which cluster processes run."""
    from citydw.cluster import service

    lines = service.status()
    for line in lines:
        typer.echo(line)
    if not lines:
        raise typer.Exit(code=3)


@app.command()
def backfill(
    first: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
    last: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")],
    wait: Annotated[bool, typer.Option(help="Wait until every month has run.")] = True,
) -> None:
    """Re-process past months in order through Airflow's scheduler-managed backfill."""
    from citydw.backfill import BackfillError
    from citydw.cluster import service
    from citydw.cluster.api import AirflowApiError
    from citydw.cluster.local import ClusterError

    try:
        done = service.backfill_months(parse_month(first), parse_month(last), wait=wait, echo=typer.echo)
    except (BackfillError, ClusterError, AirflowApiError) as error:
        _fail(str(error))
    if not done:
        _fail("some months did not succeed")


def main() -> None:  # pragma: no cover - console entry point
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # GX announces its temporary docs folder at INFO on every run: not news for an operator.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
