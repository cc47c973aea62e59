"""``citydw demo generate``: the sample city's deliveries for a range of months.

Each month, each dataset with a demo writer is rendered from the one
simulated :class:`~citydw.demo.world.World` and dropped where its registry
channel says (``drc/major_projects/2022-07/…xlsx`` under ``out``), with the
file's modification time set to when the department delivered it, since the
file drop takes the mtime as the time of receipt. ``manifest.json`` at the
root of ``out`` lists the files and the defects put into them.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Protocol

import fsspec
from fsspec.implementations.local import LocalFileSystem

from citydw.city import City, load_city
from citydw.demo import drc, manifest
from citydw.demo.manifest import Defect, DeliveryFile
from citydw.demo.world import World, month_start
from citydw.months import month_range
from citydw.registry import DatasetSpec, Department, Registry, load_registry
from citydw.sources.filedrop import delivery_folder


class Renderer(Protocol):
    def __call__(
        self, world: World, department: Department, spec: DatasetSpec, month: date, *, defect_rate: float
    ) -> DeliveryFile: ...


# One writer per dataset; a department's datasets are added here as their writers are.
RENDERERS: dict[str, Renderer] = {
    drc.DATASET: drc.render_major_projects,
}


def generate(
    out: str,
    first_month: date,
    last_month: date,
    *,
    seed: int = 2022,
    defect_rate: float = 1.0,
    city: City | None = None,
    registry: Registry | None = None,
) -> list[str]:
    """Write the demo city's deliveries for ``first_month``..``last_month`` under ``out``.

    ``out`` is a local folder or any fsspec URL. The same seed gives the same
    files, and a month's files do not depend on the range asked for.
    ``defect_rate`` scales how often a month carries defects (0: none).
    Files this generator wrote earlier for the same datasets and months (per
    the manifest) are replaced, so a re-run never leaves a stale version
    beside the new one. Returns the URLs of the files written, the manifest last.
    """
    if defect_rate < 0:
        raise ValueError(f"defect_rate must be 0 or more, not {defect_rate}")
    if month_start(first_month) > month_start(last_month):
        raise ValueError(f"the first month {first_month:%Y-%m} is after the last month {last_month:%Y-%m}")
    city = city or load_city()
    registry = registry or load_registry()
    world = World(city, seed)
    previous = manifest.read_manifest(out)
    previous_paths = {(f["dataset"], f["month"]): f["path"] for f in previous["files"]}

    written: list[str] = []
    file_entries: list[dict[str, Any]] = []
    defects: list[Defect] = []
    for month in month_range(month_start(first_month), month_start(last_month)):
        for dataset_id, render in RENDERERS.items():
            spec = registry.dataset(dataset_id)
            delivery = render(world, registry.department(spec.department), spec, month, defect_rate=defect_rate)
            folder_url = delivery_folder(spec, out, month)
            relative = posixpath.join(delivery_folder(spec, "", month), delivery.file_name)
            stale = previous_paths.get((dataset_id, delivery.month))
            if stale and stale != relative:
                _remove(posixpath.join(out.rstrip("/"), stale))
            url = posixpath.join(folder_url, delivery.file_name)
            _write(url, delivery.content, delivered_at=delivery.delivered_at)
            written.append(url)
            file_entries.append(_file_entry(delivery, relative, seed, defect_rate))
            defects.extend(replace(defect, path=relative) for defect in delivery.defects)

    manifest_url = posixpath.join(out.rstrip("/"), manifest.MANIFEST_NAME)
    _write(manifest_url, manifest.dumps(manifest.merged(previous, file_entries, defects)))
    written.append(manifest_url)
    return written


def _file_entry(delivery: DeliveryFile, relative: str, seed: int, defect_rate: float) -> dict[str, Any]:
    return {
        "dataset": delivery.dataset,
        "month": delivery.month,
        "path": relative,
        "seed": seed,
        "defect_rate": defect_rate,
        "rows": delivery.rows,
        "delivered_at": delivery.delivered_at,
        "due_date": delivery.due_date,
        "sha256": hashlib.sha256(delivery.content).hexdigest(),
        "layout": delivery.layout,
    }


def _write(url: str, content: bytes, *, delivered_at: str | None = None) -> None:
    fs, path = fsspec.core.url_to_fs(url)
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    with fs.open(path, "wb") as handle:
        handle.write(content)
    if delivered_at and isinstance(fs, LocalFileSystem):
        # Only a local file's mtime can be set; on object stores the upload time stands.
        timestamp = datetime.fromisoformat(delivered_at).timestamp()
        os.utime(path, (timestamp, timestamp))


def _remove(url: str) -> None:
    fs, path = fsspec.core.url_to_fs(url)
    if fs.exists(path):
        fs.rm(path)
