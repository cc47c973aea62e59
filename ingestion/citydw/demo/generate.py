"""``citydw demo generate``: the sample city's deliveries for a range of months.

Each month, each of the fourteen datasets is rendered from the one simulated
:class:`~citydw.demo.world.World` by its department's writer. File drops land
where the registry's channel says (``drc/major_projects/2022-07/…xlsx`` under
``out``) with the file's modification time set to when the department
delivered it, since the file drop takes the mtime as the time of receipt.
The API departments' feeds are written as JSON record lists under
``<out>/_api/<department>/<dataset>/<YYYY-MM>.json``, which ``citydw demo
serve`` (:mod:`citydw.demo.api_server`) publishes as paged APIs.

Some deliveries of a range are about the year before, because a mart
compares with it: the demolition figures of last December (last year's
total), and the statistics bureau's yearly reference data on last year,
delivered in March (``stats/population/2021/``). The province bulletin's
上年同期 needs no file: it is computed from the same world's last year.

The year's defects (:mod:`citydw.demo.defects`) are planned per year: a
late delivery, one that never arrives, one rejected for a missing column and
then corrected (two files in the month's folder), a month in 元, a unit slip,
and rows that fail a rule. ``manifest.json`` at the root of ``out`` lists the
files and every defect put in.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import fsspec
from fsspec.implementations.local import LocalFileSystem

from citydw.city import City, load_city
from citydw.demo import drc, finance, manifest
from citydw.demo.defects import YearPlan
from citydw.demo.manifest import API_ROOT, Defect
from citydw.demo.orders import CATALOGUE, YEARLY_DUE, Order, Rendered, department_of
from citydw.demo.world import World, month_start
from citydw.months import month_range
from citydw.registry import Registry, load_registry
from citydw.sources.filedrop import month_token


class Renderer(Protocol):
    def __call__(self, world: World, order: Order) -> Rendered: ...


def _renderers() -> dict[str, Renderer]:
    from citydw.demo import expropriation, housing, nrp, registers, sectors, stats

    return {
        drc.DATASET: drc.render_major_projects,
        finance.ALLOCATIONS: finance.render_allocations,
        finance.BULLETIN: finance.render_bulletin,
        nrp.DATASET: nrp.render_spatial_plans,
        housing.RENOVATION: housing.render_renovation,
        housing.DRAINAGE: housing.render_drainage,
        sectors.TRANSPORT: sectors.render_transport,
        sectors.WATER: sectors.render_water,
        registers.SCHOOLS: registers.render_register,
        registers.CLINICS: registers.render_register,
        registers.ELDERLY_CARE: registers.render_register,
        registers.PARKING: registers.render_parking,
        expropriation.DATASET: expropriation.render_demolition,
        stats.POPULATION: stats.render_population,
        stats.COMMUNITIES: stats.render_communities,
    }


RENDERERS: dict[str, Renderer] = _renderers()
"""One writer per dataset, in the order they are generated."""

LAST_YEAR_MONTHLY = ("expropriation.demolition_progress",)
"""Monthly datasets whose last December is generated with a range: a mart needs last year's total."""


@dataclass(frozen=True)
class Job:
    dataset: str
    month: date  # the report month; for yearly data January of the year described


def jobs_for(first_month: date, last_month: date) -> list[Job]:
    """What a range of months generates: every monthly dataset's months, and what marts need of the year before."""
    months = month_range(month_start(first_month), month_start(last_month))
    monthly = [d for d, entry in CATALOGUE.items() if not entry.yearly]
    yearly = [d for d, entry in CATALOGUE.items() if entry.yearly]
    jobs = [Job(dataset, month) for month in months for dataset in monthly]
    asked = set(jobs)
    for year in sorted({m.year for m in months}):
        for dataset in LAST_YEAR_MONTHLY:
            december = Job(dataset, date(year - 1, 12, 1))
            if december not in asked:
                jobs.insert(0, december)
                asked.add(december)
        # The reference data in force during a year is the one on the year before.
        jobs.extend(Job(dataset, date(year - 1, 1, 1)) for dataset in yearly)
    return jobs


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
    ``defect_rate`` scales how often defects occur (0: none; 1: a real year's).
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
    root = out.rstrip("/")
    previous = manifest.read_manifest(out)
    previous_paths: dict[tuple[str, str], list[str]] = {}
    for entry in previous["files"]:
        previous_paths.setdefault((entry["dataset"], entry["month"]), []).append(entry["path"])
    plans: dict[int, YearPlan] = {}

    written: list[str] = []
    file_entries: list[dict[str, Any]] = []
    defects: list[Defect] = []
    replaced: set[tuple[str, str]] = set()
    for job in jobs_for(first_month, last_month):
        year = job.month.year
        if year not in plans:
            plans[year] = YearPlan.draw(world.rng("defects", year), year, defect_rate)
        delivery = _Delivery(world, registry, job, plans[year], defect_rate)
        replaced.add((job.dataset, delivery.month_text))
        files, found = delivery.render()
        new_paths = {relative for relative, _, _ in files}
        for stale in previous_paths.get((job.dataset, delivery.month_text), []):
            if stale not in new_paths:
                _remove(posixpath.join(root, stale))
        for version, (relative, rendered, entry) in enumerate(files, start=1):
            url = posixpath.join(root, relative)
            _write(url, rendered.content, delivered_at=entry["delivered_at"])
            written.append(url)
            file_entries.append({**entry, "version": version, "seed": seed, "defect_rate": defect_rate})
        defects.extend(found)

    manifest_url = posixpath.join(root, manifest.MANIFEST_NAME)
    _write(manifest_url, manifest.dumps(manifest.merged(previous, file_entries, defects, replaced)))
    written.append(manifest_url)
    return written


class _Delivery:
    """One dataset's month: the order for its writer, and the file(s) that come of it."""

    def __init__(self, world: World, registry: Registry, job: Job, plan: YearPlan, defect_rate: float):
        self.world, self.job, self.plan = world, job, plan
        self.entry = CATALOGUE[job.dataset]
        self.spec = registry.datasets.get(job.dataset)
        department = registry.departments.get(self.entry.department)
        self.department_name, self.contact = department_of(department, job.dataset)
        self.defect_rate = defect_rate
        self.slot = (job.dataset, job.month)
        self.month_text = (
            month_token(self.spec, job.month)
            if self.spec
            else (f"{job.month:%Y}" if self.entry.yearly else f"{job.month:%Y-%m}")
        )

    def folder(self) -> str:
        """Where the delivery goes, relative to the output root."""
        if self.entry.channel == "api":
            return posixpath.join(API_ROOT, self.entry.department, self.entry.name)
        path = self.spec.channel.path if self.spec and self.spec.channel.path else self.entry.default_path
        return path.format(month=self.month_text, year=f"{self.job.month:%Y}")

    def render(self) -> tuple[list[tuple[str, Rendered, dict[str, Any]]], list[Defect]]:
        """The files to write (relative path, rendering, manifest entry) and the defects of the delivery."""
        job, plan = self.job, self.plan
        if self.slot in plan.missing:
            return [], [Defect(job.dataset, self.month_text, "never_delivered")]
        late = self.slot in plan.late
        if self.entry.yearly:
            arrival = self.world.yearly_delivery(job.dataset, job.month.year, YEARLY_DUE, late=late)
        else:
            arrival = self.world.delivery(job.dataset, job.month, self.entry.due_working_day or 5, late=late)
        order = Order(
            dataset=job.dataset,
            month=job.month,
            delivered_at=arrival.delivered_at,
            due_date=arrival.due_date,
            department_name=self.department_name,
            contact=self.contact,
            spec=self.spec,
            defect_rate=self.defect_rate,
            row_defects=plan.row_defects(job.dataset, job.month),
            money_unit="元" if self.slot in plan.yuan else "万元",
            unit_slip=self.slot in plan.slip,
        )
        render = RENDERERS[job.dataset]
        files: list[tuple[str, Rendered, dict[str, Any]]] = []
        defects: list[Defect] = []
        if self.slot in plan.rejected:
            dropped = plan.rejected[self.slot]
            first = render(self.world, replace(order, row_defects=(), drop_field=dropped))
            path = self._path(first.file_name)
            files.append((path, first, {**self._entry(first, path, order), "missing_field": dropped}))
            defects.append(Defect(job.dataset, self.month_text, "missing_column", field=dropped, path=path))
            order = replace(order, delivered_at=_later(order.delivered_at, self.world, job))
        rendered = render(self.world, order)
        if files and rendered.file_name == files[0][1].file_name:
            stem, dot, extension = rendered.file_name.rpartition(".")
            rendered.file_name = f"{stem}（修改）{dot}{extension}"
        path = self._path(rendered.file_name)
        files.append((path, rendered, self._entry(rendered, path, order)))
        defects.extend(replace(d, path=path) for d in rendered.defects)
        if late:
            defects.append(
                Defect(
                    job.dataset,
                    self.month_text,
                    "late_delivery",
                    field="delivered_at",
                    value=order.delivered_at.isoformat(),
                    path=path,
                )
            )
        if order.money_unit == "元":
            defects.append(Defect(job.dataset, self.month_text, "unit_yuan", value="元", path=path))
        if order.unit_slip:
            defects.append(Defect(job.dataset, self.month_text, "unit_slip", value="×10000", path=path))
        return files, defects

    def _path(self, file_name: str) -> str:
        if self.entry.channel == "api":
            return posixpath.join(self.folder(), f"{self.month_text}.json")
        return posixpath.join(self.folder(), file_name)

    def _entry(self, rendered: Rendered, path: str, order: Order) -> dict[str, Any]:
        return {
            "dataset": self.job.dataset,
            "month": self.month_text,
            "channel": self.entry.channel,
            "path": path,
            "rows": rendered.rows,
            "delivered_at": order.delivered_at.isoformat(),
            "due_date": order.due_date.isoformat(),
            "sha256": hashlib.sha256(rendered.content).hexdigest(),
            "layout": rendered.layout,
        }


def _later(delivered_at: datetime, world: World, job: Job) -> datetime:
    """When the corrected version follows a rejected one: the same afternoon or a day or two later."""
    rng = world.rng("correction", job.dataset, job.month.isoformat())
    days, hour, minute = rng.choice((0, 1, 1, 2)), rng.randint(9, 17), rng.randint(0, 59)
    later = (delivered_at + timedelta(days=days)).replace(hour=hour, minute=minute)
    while later <= delivered_at + timedelta(minutes=30) or later.weekday() >= 5:
        later += timedelta(days=1)
    return later


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
