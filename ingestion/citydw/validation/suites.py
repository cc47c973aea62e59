"""Loading a dataset's suite from ``expectations/``.

A suite is GX Core's own JSON form of an ``ExpectationSuite``. Each
expectation carries, in ``meta``, the citydw severity that decides what a
failure does, and optionally the Chinese text of what is ``expected``; its
``description`` is the rule as the department reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import great_expectations as gx

    from citydw.registry import DatasetSpec

Severity = Literal["blocking", "row", "warning"]
SEVERITIES: tuple[Severity, ...] = ("blocking", "row", "warning")

# GX has its own three-level severity, shown in Data Docs; ours decides the
# fate of a delivery or a row, so it lives in meta and GX's follows it.
_GX_SEVERITY = {"blocking": "critical", "row": "warning", "warning": "info"}


def read_suite_document(path: Path) -> dict:
    document = json.loads(path.read_text(encoding="utf-8"))
    for position, expectation in enumerate(document.get("expectations", []), start=1):
        severity = expectation.get("meta", {}).get("severity")
        if severity not in SEVERITIES:
            raise ValueError(
                f"{path}: expectation {position} ({expectation.get('type')}) needs meta.severity "
                f"set to one of {', '.join(SEVERITIES)}, not {severity!r}"
            )
        expectation["severity"] = _GX_SEVERITY[severity]
    return document


def load_suite(spec: DatasetSpec, expectations_dir: Path) -> gx.ExpectationSuite:
    import great_expectations as gx

    import citydw.quality.expectations  # noqa: F401 - registers the rule pack's GX expectations

    path = expectations_dir / spec.suite_file
    if not path.exists():
        raise FileNotFoundError(f"{spec.id}: no suite at {path}; every dataset needs one (see README)")
    return gx.ExpectationSuite(**read_suite_document(path))
