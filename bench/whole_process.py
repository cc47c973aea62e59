"""Run one command as a whole process; report its wall time and its own peak resident memory.

    python -m bench.whole_process RESULT.json -- COMMAND [ARGS...]

This small process (standard library only, ~10 MiB) starts the command and
collects it with ``wait4``, whose ``ru_maxrss`` is the command's peak. Why a
go-between: a child started by vfork or posix_spawn (what ``subprocess``
uses) inherits in ``ru_maxrss`` the peak of the process that started it —
for a benchmark runner holding a million rows that would be the runner's
peak, not the command's. Started from here, the most it can inherit is this
process's own few MiB. The time is taken around the command alone: its
interpreter start, its imports, everything a user waits for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    result, command = argv[0], argv[2:]
    start = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)  # collected here, not by Popen
    with open(result, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "seconds": seconds,
                "peak_rss_mib": usage.ru_maxrss / 1024,  # KiB on Linux
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "returncode": child.returncode,
            },
            handle,
        )
    return child.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
