"""What the generator wrote and which defects it put in: ``manifest.json``.

The manifest sits at the root of the output. Tests check the pipeline
against it (every injected defect must be caught, nothing else must be), and
the demo's summary lists the defects the departments will be told about.

Format (version 1)::

    {
      "version": 1,
      "generator": "citydw.demo",
      "files": [
        {"dataset": "drc.major_projects", "month": "2022-07",
         "path": "drc/major_projects/2022-07/扬州市2022年1-7月重大项目推进情况调度表.xlsx",
         "seed": 2022, "defect_rate": 1.0, "rows": 201,
         "delivered_at": "2022-08-04T10:23:51+08:00", "due_date": "2022-08-05",
         "sha256": "…", "layout": {"unit": "万元", "header_rows": 2, …}}
      ],
      "defects": [
        {"dataset": "drc.major_projects", "month": "2022-07", "kind": "negative_amount",
         "project_code": "2021-321012-48-01-562153", "source_row": 57,
         "field": "month_investment", "value": "-1234.5",
         "path": "drc/major_projects/2022-07/…xlsx"}
      ]
    }

``path`` is relative to the output root; ``source_row`` is the 1-based row
in the file, as the readers number rows; ``value`` is what the cell says,
as text. Defect kinds are listed in :data:`DEFECT_KINDS`.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import asdict, dataclass, field
from typing import Any

import fsspec

MANIFEST_NAME = "manifest.json"
VERSION = 1

DEFECT_KINDS: dict[str, str] = {
    "duplicate_code": "the same project code on two rows (a row pasted twice); source_row is the second",
    "negative_amount": "a negative amount (a clerk's correction of an earlier month)",
    "wrong_district": "a district that is not one of the city's (南京市玄武区)",
    "non_numeric_amount": "text where an amount belongs (待核实)",
}


@dataclass(frozen=True)
class Defect:
    dataset: str
    month: str  # YYYY-MM
    kind: str
    project_code: str
    source_row: int
    field: str
    value: str
    path: str = ""  # relative to the output root; set when the file is placed


@dataclass
class DeliveryFile:
    """One rendered delivery: the bytes and what is known about them."""

    dataset: str
    month: str  # YYYY-MM
    file_name: str
    content: bytes
    delivered_at: str  # ISO 8601 with the city's offset
    due_date: str
    rows: int  # data rows, duplicates included, total row excluded
    defects: list[Defect] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)


def read_manifest(out: str) -> dict[str, Any]:
    """The manifest under ``out``, or an empty one when there is none yet."""
    fs, root = fsspec.core.url_to_fs(out)
    path = posixpath.join(root, MANIFEST_NAME)
    if not fs.exists(path):
        return {"version": VERSION, "generator": "citydw.demo", "files": [], "defects": []}
    with fs.open(path, "rb") as handle:
        manifest: dict[str, Any] = json.loads(handle.read().decode("utf-8"))
    if manifest.get("version") != VERSION:
        raise ValueError(f"{path}: manifest version {manifest.get('version')}, this generator writes {VERSION}")
    return manifest


def merged(previous: dict[str, Any], files: list[dict[str, Any]], defects: list[Defect]) -> dict[str, Any]:
    """``previous`` with the (dataset, month) deliveries just written replaced by the new ones."""
    replaced = {(f["dataset"], f["month"]) for f in files}
    kept_files = [f for f in previous.get("files", []) if (f["dataset"], f["month"]) not in replaced]
    kept_defects = [d for d in previous.get("defects", []) if (d["dataset"], d["month"]) not in replaced]
    all_files = sorted(kept_files + files, key=lambda f: (f["month"], f["dataset"]))
    all_defects = sorted(
        kept_defects + [asdict(d) for d in defects], key=lambda d: (d["month"], d["dataset"], d["source_row"])
    )
    return {"version": VERSION, "generator": "citydw.demo", "files": all_files, "defects": all_defects}


def dumps(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
