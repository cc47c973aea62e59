"""Where citydw's full logs go: files under ``<home>/logs/``, so a terminal shows only what a person reads.

The terminal gets one line per problem; the tracebacks, dbt's node lines,
GX's and Airflow's chatter go to files here, named in what the terminal
says, for the data team to read when something went wrong.
"""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from citydw.settings import Settings, get_settings

CLI_LOG = "citydw.log"
ERRORS_LOG = "errors.log"


def logs_dir(settings: Settings | None = None) -> Path:
    folder = (settings or get_settings()).home_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def record_traceback(title: str, error: BaseException, settings: Settings | None = None) -> Path:
    """Append ``error``'s traceback under ``title`` to ``logs/errors.log``; returns the file's path."""
    path = logs_dir(settings) / ERRORS_LOG
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"=== {stamp} {title}\n{text}\n")
    return path


class _OneLine(logging.Formatter):
    """A record as one line: the message without its traceback (the file log keeps that)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}".splitlines()[0]


def configure(settings: Settings | None = None, *, debug: bool = False) -> Path | None:
    """Warnings on stderr as one line each (everything with tracebacks under ``--debug``); all of it,
    INFO and up, in ``logs/citydw.log``. Returns the log file's path (``None`` if the home is not
    writable: the terminal then gets everything a file would have had above INFO)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(logging.DEBUG if debug else logging.WARNING)
    if not debug:
        terminal.setFormatter(_OneLine())
    root.addHandler(terminal)
    try:
        path = logs_dir(settings) / CLI_LOG
        to_file = logging.FileHandler(path, encoding="utf-8")
    except OSError as error:
        root.warning("no log file under the citydw home (%s); logging to the terminal only", error)
        return None
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_file.setLevel(logging.INFO)
    root.addHandler(to_file)
    return path
