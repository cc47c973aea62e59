"""Ordinary mistakes on the command line: one clear line on stderr, a non-zero exit, no traceback
(unless --debug asks for it), for every command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def citydw(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "citydw.cli", *args], env=os.environ.copy(), capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ingest", "--month", "2022-13"], "report month '2022-13' is not of the form YYYY-MM"),
        (
            ["ingest", "--month", "2022-07", "--dataset", "drc.major_projects", "--file", "/nonexistent/july.xlsx"],
            "--file /nonexistent/july.xlsx: no such file",
        ),
        (["ingest", "--month", "2022-07", "--dataset", "drc.nonsense"], "unknown dataset 'drc.nonsense'"),
        (["ingest", "--month", "2022-07", "--file", "/tmp/x.xlsx"], "--file needs exactly one --dataset"),
        (["ingest"], "Missing option '--month'"),
        (["report", "--month", "July"], "report month 'July' is not of the form YYYY-MM"),
        (["demo", "generate", "--from", "2022-00"], "report month '2022-00' is not of the form YYYY-MM"),
        (["run", "--month", "2022-07", "--to", "22-12"], "report month '22-12' is not of the form YYYY-MM"),
    ],
    ids=["bad-month", "missing-file", "unknown-dataset", "file-without-dataset", "no-month", "report", "demo", "run"],
)
def test_a_mistake_is_one_line_and_a_non_zero_exit(args, expected):
    run = citydw(*args)

    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("citydw: ") and expected in lines[0]
    assert "Traceback" not in run.stdout + run.stderr


def test_debug_shows_the_traceback_and_the_log_keeps_it(citydw_home):
    quiet = citydw("ingest", "--month", "2022-13")
    loud = citydw("--debug", "ingest", "--month", "2022-13")

    assert "Traceback" not in quiet.stderr
    assert loud.returncode != 0 and "Traceback (most recent call last)" in loud.stderr
    assert "ValueError: report month '2022-13'" in (citydw_home / "logs" / "errors.log").read_text(encoding="utf-8")
