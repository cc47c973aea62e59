"""The ``citydw`` command line. Each command is a thin shell over a package function."""

from __future__ import annotations

import contextlib
import sys
from typing import Annotated

import typer

from citydw.months import month_range, parse_month

app = typer.Typer(
    help=(
        "citydw — the city's monthly construction data pipeline and warehouse. "
        "Errors are one line; add --debug anywhere for their tracebacks (always in .citydw/logs/)."
    ),
    no_args_is_help=True,
    # main() turns every error into one line; tracebacks are for --debug and the log files.
    pretty_exceptions_enable=False,
)
warehouse_app = typer.Typer(help="The embedded PostgreSQL warehouse (data under .citydw/).", no_args_is_help=True)
demo_app = typer.Typer(help="The sample city: its deliveries, in the real formats.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
cluster_app = typer.Typer(
    help="Airflow on Celery on localhost: Redis, scheduler, DAG processor, API server, two workers.",
    no_args_is_help=True,
)
portal_app = typer.Typer(
    help="The department portal: templates, pre-checks and submissions for the departments' clerks.",
)
portal_user_app = typer.Typer(help="Portal accounts, one per clerk, bound to a department.", no_args_is_help=True)
portal_app.add_typer(portal_user_app, name="user")
bi_app = typer.Typer(
    help="Superset on 127.0.0.1 (CITYDW_BI_PORT), connected as citydw_bi, dashboards from bi/.", no_args_is_help=True
)
app.add_typer(demo_app, name="demo")
app.add_typer(portal_app, name="portal")
app.add_typer(cluster_app, name="cluster")
app.add_typer(bi_app, name="bi")

Month = Annotated[str, typer.Option("--month", help="Report month, YYYY-MM.")]


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        from citydw import __version__

        try:
            installed = version("citydw")
        except PackageNotFoundError:  # run from a source tree without installing
            installed = __version__
        typer.echo(f"citydw {installed}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print citydw's version and exit."),
    ] = False,
) -> None:
    """citydw — the city's monthly construction data pipeline and warehouse."""


# Verdict lines already printed by this command: yearly data (last year's population) would
# otherwise repeat the same line under every month of a range.
_shown_verdicts: set[str] = set()


def _echo_month_outcome(month, this_run: dict[str, str] | None = None) -> None:
    from citydw.summary import month_outcome
    from citydw.warehouse.connect import connect

    with connect() as conn:
        for line in month_outcome(conn, month, this_run):
            if line not in _shown_verdicts:
                typer.echo(line)
            _shown_verdicts.add(line)


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
    """Say whether the warehouse answers: CITYDW_WAREHOUSE_URL's server, else the embedded one (exit 3 if not)."""
    from citydw.settings import get_settings
    from citydw.warehouse import embedded
    from citydw.warehouse.connect import redact_url, server_status

    url = get_settings().warehouse_url
    if url:
        # A server citydw does not run: ask it, and never show the password (`citydw warehouse url` does).
        answer = server_status(url)
        typer.echo(f"{'server':>10}: CITYDW_WAREHOUSE_URL (not the embedded warehouse)")
        typer.echo(f"{'url':>10}: {redact_url(url)}")
        typer.echo(f"{'running':>10}: {not answer.startswith('unreachable')}")
        typer.echo(f"{'version':>10}: {answer}")
        if answer.startswith("unreachable"):
            raise typer.Exit(code=3)
        return
    status = embedded.status()
    for key, value in vars(status).items():
        if key == "url":
            if status.running and value:
                typer.echo(f"{key:>10}: {redact_url(value)}  (`citydw warehouse url` prints it with its password)")
            continue
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
    reinstate: Annotated[
        str | None, typer.Option(help="Make an earlier version (vN) of the month the accepted one again.")
    ] = None,
    confirm_shrink: Annotated[
        bool,
        typer.Option(
            "--confirm-shrink",
            help="A person confirmed that the row count really fell (行数骤降): accept such a version, "
            "also one already rejected for that alone.",
        ),
    ] = False,
) -> None:
    """Fetch (or take the given file), archive, parse, validate and load; one line per dataset."""
    from citydw.orchestration import ingest_month, reinstate_version

    if reinstate:
        if file or not dataset or len(dataset) != 1:
            raise ValueError("--reinstate needs exactly one --dataset and no --file: which month's version?")
        results = [reinstate_version(dataset[0], month, reinstate)]
    else:
        results = ingest_month(month, datasets=dataset, file=file, confirm_shrink=confirm_shrink)
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
def check(
    dataset: Annotated[str, typer.Option(help="DEPT.DATASET the file is a delivery of.")],
    month: Month,
    file: Annotated[str, typer.Argument(help="The file to check (path or fsspec URL).")],
) -> None:
    """Parse and validate a file as ingest would; nothing archived or loaded.

    Exit code: 0 acceptable, 1 blocking problems (it would be rejected), 2 row problems.
    """
    from citydw.checking import check_file
    from citydw.pipeline import Context
    from citydw.sources.filedrop import candidate_from_file
    from citydw.warehouse.connect import connect

    candidate = candidate_from_file(file)
    try:
        context = Context.load()
        with connect(autocommit=True) as conn:
            report = check_file(conn, dataset, month, candidate.read(), candidate.file_name, context)
    except (ValueError, KeyError, FileNotFoundError) as error:
        typer.secho(str(error), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1) from None
    for line in report.lines():
        typer.echo(line)
    raise typer.Exit(code=report.exit_code)


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
def docs(
    serve: Annotated[bool, typer.Option(help="Serve them on 127.0.0.1 until Ctrl-C.")] = True,
    port: Annotated[int, typer.Option(help="Port of the docs server.")] = 8081,
) -> None:
    """dbt's documentation of the warehouse (models, columns, lineage), generated and served.

    The connection comes from CITYDW_WAREHOUSE_URL (or the embedded warehouse)
    like every command: no CITYDW_PG_* variables to set by hand. Also writes
    ``static_index.html``, one file that opens offline.
    """
    import os
    from pathlib import Path

    from citydw.settings import get_settings
    from citydw.transform import run_dbt

    generated = run_dbt(["docs", "generate", "--static"])
    if not generated.success:
        _fail("dbt docs generate failed:\n" + "\n".join(generated.failures))
    target = Path(os.environ.get("DBT_TARGET_PATH") or get_settings().dbt_project_path / "target")
    typer.echo(f"dbt docs: {target / 'static_index.html'} (one file, opens offline)")
    if serve:
        import socket

        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                _fail(f"port {port} on 127.0.0.1 is taken: choose another with --port")
        typer.echo(f"serving on http://127.0.0.1:{port}/ — Ctrl-C stops it")
        run_dbt(["docs", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser"])


@app.command()
def report(
    month: Month,
    build: Annotated[bool, typer.Option(help="Rebuild the quality marts first.")] = True,
    notify: Annotated[bool, typer.Option(help="Send the correction notices and alerts.")] = True,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Count lateness and deadlines to this day, YYYY-MM-DD; default today.")
    ] = None,
) -> None:
    """The month's data-quality report, correction workbooks and notices (what citydw_report runs)."""
    from citydw.quality.report import run as run_report

    result = run_report(month, build=build, notify=notify, as_of=as_of)
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
    from citydw.progress import run_month_quietly

    months = month_range(parse_month(month), parse_month(to)) if to else [parse_month(month)]
    failed = []
    for report_month in months:
        # Prints "citydw_monthly YYYY-MM: <outcome> … (log: …)"; Airflow's and dbt's output go to that log.
        outcome, _log = run_month_quietly(report_month)
        _echo_month_outcome(report_month, outcome.datasets)
        if not outcome.succeeded:
            failed.append(f"{report_month:%Y-%m} ({', '.join(outcome.failed) or outcome.state})")
    if failed:
        _fail(f"runs that did not succeed: {'; '.join(failed)}")


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
        typer.echo("cluster stopped: no cluster process runs (`citydw cluster up --detach` starts it)")
        raise typer.Exit(code=3)


@bi_app.command("install")
def bi_install() -> None:
    """Create or update .venv-bi/ from requirements/bi-constraints.txt (a no-op when up to date)."""
    from citydw.bi.environment import BiEnvironmentError, ensure_installed
    from citydw.settings import get_settings

    try:
        typer.echo(f"Superset ready: {ensure_installed(get_settings(), echo=typer.echo)}")
    except BiEnvironmentError as error:
        _fail(str(error))


@bi_app.command("up")
def bi_up() -> None:
    """Install .venv-bi if needed, start Superset in the background and import the dashboards of bi/."""
    from citydw.bi import server
    from citydw.bi.api import SupersetApiError
    from citydw.bi.environment import BiEnvironmentError
    from citydw.settings import get_settings

    settings = get_settings()
    try:
        running = server.up(settings, echo=typer.echo)
    except (server.BiError, BiEnvironmentError, SupersetApiError) as error:
        _fail(str(error))
    where = "CITYDW_BI_ADMIN_PASSWORD" if settings.bi_admin_password else str(settings.bi_dir / "admin-password")
    typer.echo(f"Superset: {running.url}  user admin, password in {where}")
    typer.echo("stop it with: citydw bi down")


@bi_app.command("down")
def bi_down() -> None:
    """Stop the Superset `citydw bi up` started."""
    from citydw.bi import server

    typer.echo("Superset stopped" if server.down() else "Superset was not running")


@bi_app.command("status")
def bi_status() -> None:
    """Say whether Superset runs, where, and its log."""
    from citydw.bi import server

    running = server.status()
    if running is None:
        typer.echo("Superset is not running")
        raise typer.Exit(code=3)
    typer.echo(f"Superset running: {running.url} (pid {running.pid}, log {running.log_file})")


@bi_app.command("export")
def bi_export() -> None:
    """Write the running Superset's databases, datasets, charts and dashboards back to bi/."""
    from citydw.bi import dashboards, server
    from citydw.settings import get_settings

    settings = get_settings()
    running = server.status(settings)
    if running is None:
        _fail("Superset is not running: start it with `citydw bi up` (or make bi).")
        return
    written = dashboards.export_dashboards(server.login(running.url, settings), settings.dashboards_dir)
    typer.echo(f"wrote {len(written)} files under {settings.dashboards_dir}; review them with git diff")


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


@app.command("load-history")
def load_history(
    first: Annotated[str, typer.Option("--from", help="First report month, YYYY-MM.")],
    last: Annotated[str, typer.Option("--to", help="Last report month, YYYY-MM.")],
    workers: Annotated[int, typer.Option(help="Processes ingesting datasets side by side.")] = 2,
    demo_apis: Annotated[
        bool, typer.Option("--demo-apis", help="Serve the generated API departments' feeds meanwhile, as `demo run`.")
    ] = False,
) -> None:
    """Years of deliveries at once: every month ingested, then one dbt build (as month-by-month runs would)."""
    from citydw.history_load import load_history as run_load
    from citydw.logfiles import logs_dir
    from citydw.progress import output_to
    from citydw.settings import get_settings

    settings = get_settings()
    log_path = logs_dir(settings) / f"load-history-{first}-{last}.log"
    # dbt's line per node and GX's output go to the log (the workers inherit it); the terminal gets a line a stage.
    with output_to(log_path) as terminal:

        def say(line: str) -> None:
            terminal.write(line + "\n")
            terminal.flush()

        serving: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
        if demo_apis:
            from citydw.demo.run import demo_apis as serve_demo_apis

            serving = serve_demo_apis(settings)
        with serving:
            outcome = run_load(
                parse_month(first),
                parse_month(last),
                workers=workers,
                on_group=lambda group: say(f"  ingested {group.summary()}"),
                on_stage=say,
            )
    typer.echo(outcome.summary())
    typer.echo(f"log: {log_path}")
    for line in [*outcome.errors[:20], *outcome.build_failures[:20]]:
        typer.echo(f"    {line}", err=True)
    if not outcome.succeeded:
        _fail(f"load-history {first}..{last}: {len(outcome.errors)} ingest error(s); {outcome.build_summary}")


def _one_line(error: BaseException) -> str:
    """What went wrong, as one line: the message of a mistake the user can fix, else the error's class too."""
    text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    text = " ".join(str(text).split()) or type(error).__name__
    return text if _is_users_mistake(error) else f"{type(error).__name__}: {text}"


def _is_users_mistake(error: BaseException) -> bool:
    """A bad month, an unknown dataset, a missing file, a full disk: what the message alone lets a person fix."""
    return isinstance(error, (ValueError, LookupError, OSError)) or type(error).__module__.startswith("citydw")


@portal_app.callback(invoke_without_command=True)
def portal(ctx: typer.Context) -> None:
    """Serve the portal on 127.0.0.1:CITYDW_PORTAL_PORT (default 8090) until interrupted."""
    if ctx.invoked_subcommand is not None:
        return
    from citydw.portal.app import serve
    from citydw.settings import get_settings

    settings = get_settings()
    typer.echo(f"portal on http://{settings.portal_host}:{settings.portal_port}/ (Ctrl-C stops it)")
    serve(settings)


@portal_user_app.command("add")
def portal_user_add(
    name: Annotated[str, typer.Argument(help="Account name, e.g. clerk1.")],
    department: Annotated[str, typer.Option("--department", help="Department code from registry/, e.g. drc.")],
) -> None:
    """Create an account; the password is read from stdin; prints the API token once, on the last line."""
    from citydw.pipeline import Context
    from citydw.portal import accounts
    from citydw.warehouse.connect import connect, prepare_warehouse, resolve_warehouse_url

    registry = Context.load().registry
    if department not in registry.departments:
        _fail(f"unknown department {department!r}; the registry has: {', '.join(sorted(registry.departments))}")
    password = (
        sys.stdin.readline().rstrip("\r\n")
        if not sys.stdin.isatty()
        else typer.prompt("password", hide_input=True, confirmation_prompt=True)
    )
    url = prepare_warehouse(resolve_warehouse_url())
    try:
        with connect(url, autocommit=True) as conn:
            user, token = accounts.add_user(conn, name, department, password)
    except accounts.AccountError as error:
        _fail(str(error))
    typer.echo(f"account {user.username} ({department}) created; its API token (shown once):")
    typer.echo(token)


@portal_app.command("token")
def portal_token(name: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Issue a new API token for an account, revoking the old one; prints it once."""
    from citydw.portal import accounts
    from citydw.warehouse.connect import connect, prepare_warehouse, resolve_warehouse_url

    url = prepare_warehouse(resolve_warehouse_url())
    try:
        with connect(url, autocommit=True) as conn:
            token = accounts.issue_token(conn, name)
    except accounts.AccountError as error:
        _fail(str(error))
    typer.echo(token)


def main() -> None:  # pragma: no cover - console entry point
    """Run a command; every error ends as one line on stderr and a non-zero exit, a traceback only with --debug."""
    from citydw import logfiles

    arguments = sys.argv[1:]
    debug = "--debug" in arguments
    arguments = [a for a in arguments if a != "--debug"]
    try:
        logfiles.configure(debug=debug)
        code = app(args=arguments, prog_name="citydw", standalone_mode=False)
    except typer.Exit as done:
        code = done.exit_code
    except typer.TyperException as mistake:  # a usage error: a missing option, a bad value
        message = mistake.format_message()
        typer.secho(f"citydw: {message}  (see --help)", err=True, fg=typer.colors.RED)
        code = mistake.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.secho("citydw: interrupted", err=True, fg=typer.colors.RED)
        code = 130
    except Exception as error:
        if debug:
            raise
        where = ""
        with contextlib.suppress(Exception):  # an unwritable home must not hide the error itself
            log_path = logfiles.record_traceback(" ".join(["citydw", *arguments]), error)
            where = "" if _is_users_mistake(error) else f"  (traceback in {log_path}; --debug shows it)"
        typer.secho(f"citydw: error: {_one_line(error)}{where}", err=True, fg=typer.colors.RED)
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
