"""What the generator wrote and which defects it put in: ``manifest.json``.

The manifest sits at the root of the output. Tests check the pipeline
against it (every injected defect must be caught, nothing else must be), and
the demo's summary lists the defects the departments will be told about.

Format (version 1)::

    {
      "version": 1,
      "generator": "citydw.demo",
      "api_root": "_api",
      "files": [
        {"dataset": "drc.major_projects", "month": "2022-07", "channel": "file", "version": 1,
         "path": "drc/major_projects/2022-07/扬州市2022年1-7月重大项目推进情况调度表.xlsx",
         "seed": 2022, "defect_rate": 1.0, "rows": 201,
         "delivered_at": "2022-08-04T10:23:51+08:00", "due_date": "2022-08-05",
         "sha256": "…", "layout": {"unit": "万元", "header_rows": 2, …}},
        {"dataset": "transport.transport_projects", "month": "2022-07", "channel": "api",
         "path": "_api/transport/transport_projects/2022-07.json", …}
      ],
      "defects": [
        {"dataset": "drc.major_projects", "month": "2022-07", "kind": "negative_amount",
         "project_code": "2021-321012-48-01-562153", "row_key": "2021-321012-48-01-562153",
         "source_row": 57, "field": "month_investment", "value": "-1234.5",
         "path": "drc/major_projects/2022-07/…xlsx"},
        {"dataset": "water.water_projects", "month": "2022-03", "kind": "never_delivered",
         "project_code": "", "row_key": "", "source_row": null, "field": "", "value": "", "path": ""}
      ]
    }

``path`` is relative to the output root; API feeds are written under
``api_root`` (``<root>/_api/<department>/<dataset>/<YYYY-MM>.json``, the
layout :mod:`citydw.demo.api_server` serves). ``version`` numbers the files
of one delivery: a delivery rejected and then corrected has two, the first
with ``missing_field`` naming the column it lacks. Yearly reference data has
the data year as ``month`` ("2021"). ``source_row`` is the 1-based row in the
file, as the readers number rows (for an API feed, the record's position);
``row_key`` the row's key as written (several key fields joined by "|");
``value`` is what the cell says, as text. Delivery-level defects (late,
never delivered, rejected, unit) have no row. Defect kinds are listed in
:data:`DEFECT_KINDS`.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import asdict, dataclass, field
from typing import Any

import fsspec

MANIFEST_NAME = "manifest.json"
VERSION = 1

API_ROOT = "_api"

DEFECT_KINDS: dict[str, str] = {
    # rows of drc.major_projects
    "duplicate_code": "the same project code on two rows (a row pasted twice); source_row is the second",
    "negative_amount": "a negative amount (a clerk's correction of an earlier month)",
    "wrong_district": "a district that is not one of the city's (南京市玄武区)",
    "non_numeric_amount": "text where an amount belongs (待核实)",
    # rows of the other datasets that fail a rule of their template
    "spent_over_allocated": "cumulative_spent above the amount allocated (bond_allocations)",
    "unlisted_project": "a bond allocation to a project the DRC's list does not have (a cross-check warning)",
    "completion_over_100": "a completion percentage above 100 (drainage_zones)",
    "approved_without_date": "status 已批复 with no approval date (spatial_plans)",
    "unknown_status": "a status the template does not have (parking_lots: 已建成; elderly_care: 运营中)",
    "bad_credit_code": "a unified social credit code whose check character is wrong (schools)",
    "swapped_coordinates": "longitude and latitude swapped, so the point is outside the city (clinics)",
    "ytd_below_last_month": "a year-to-date figure below last month's (demolition_progress)",
    "duplicate_key": "the same key on two rows (renovation_projects)",
    "malformed_project_code": "a project code that does not have the GB/T 40058 format (water_projects)",
    "foreign_district_code": "a district code of another city (transport_projects)",
    "negative_capacity": "a negative number of beds (elderly_care)",
    # whole deliveries
    "late_delivery": "delivered after its due date (the file's mtime); value is when it arrived",
    "never_delivered": "no file at all for the dataset and month",
    "missing_column": "a first version without a required column (field), rejected; a corrected one follows",
    "unit_yuan": "amounts in 元 with the header saying （元）: converted by the reader, loads right",
    "unit_slip": "amounts 10,000× too large with the header still saying 万元 (a cross-check warning)",
}
DELIVERY_DEFECTS = frozenset({"late_delivery", "never_delivered", "missing_column", "unit_yuan", "unit_slip"})


@dataclass(frozen=True)
class Defect:
    dataset: str
    month: str  # YYYY-MM (YYYY for yearly data)
    kind: str
    project_code: str = ""  # the row's project, where the row is a project's
    source_row: int | None = None  # None for a defect of the whole delivery
    field: str = ""
    value: str = ""
    path: str = ""  # relative to the output root; set when the file is placed
    row_key: str = ""  # the row's key as written; key fields joined by "|"


@dataclass
class DeliveryFile:
    """One rendered delivery: the bytes and what is known about them."""

    dataset: str
    month: str  # YYYY-MM (YYYY for yearly data)
    file_name: str
    content: bytes
    delivered_at: str  # ISO 8601 with the city's offset
    due_date: str
    rows: int  # data rows, duplicates included, total row excluded
    defects: list[Defect] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)
    channel: str = "file"  # or "api": written under API_ROOT
    missing_field: str | None = None  # set on a version rejected for lacking this column


def read_manifest(out: str) -> dict[str, Any]:
    """The manifest under ``out``, or an empty one when there is none yet."""
    fs, root = fsspec.core.url_to_fs(out)
    path = posixpath.join(root, MANIFEST_NAME)
    if not fs.exists(path):
        return {"version": VERSION, "generator": "citydw.demo", "api_root": API_ROOT, "files": [], "defects": []}
    with fs.open(path, "rb") as handle:
        manifest: dict[str, Any] = json.loads(handle.read().decode("utf-8"))
    if manifest.get("version") != VERSION:
        raise ValueError(f"{path}: manifest version {manifest.get('version')}, this generator writes {VERSION}")
    return manifest


def merged(
    previous: dict[str, Any],
    files: list[dict[str, Any]],
    defects: list[Defect],
    replaced: set[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """``previous`` with the (dataset, month) deliveries just generated replaced by the new ones.

    ``replaced`` names every (dataset, month) generated, a delivery that
    never arrived included; by default those of ``files``.
    """
    replaced = replaced if replaced is not None else {(f["dataset"], f["month"]) for f in files}
    kept_files = [f for f in previous.get("files", []) if (f["dataset"], f["month"]) not in replaced]
    kept_defects = [d for d in previous.get("defects", []) if (d["dataset"], d["month"]) not in replaced]
    all_files = sorted(kept_files + files, key=lambda f: (f["month"], f["dataset"], f.get("version", 1)))
    all_defects = sorted(
        kept_defects + [asdict(d) for d in defects],
        key=lambda d: (d["month"], d["dataset"], d["source_row"] or 0, d["kind"]),
    )
    return {
        "version": VERSION,
        "generator": "citydw.demo",
        "api_root": API_ROOT,
        "files": all_files,
        "defects": all_defects,
    }


def dumps(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
