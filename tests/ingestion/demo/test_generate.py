"""``generate``: every dataset where the registry says, reproducible, the year before where marts need it."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import fsspec
import requests

from citydw.demo.api_server import routes_from_registry, serve
from citydw.demo.generate import RENDERERS, generate, jobs_for
from citydw.demo.manifest import read_manifest
from citydw.demo.orders import CATALOGUE
from citydw.registry import Registry
from citydw.sources.filedrop import list_candidates

MONTHLY = sorted(d for d, e in CATALOGUE.items() if not e.yearly)
YEARLY = sorted(d for d, e in CATALOGUE.items() if e.yearly)


def test_the_catalogue_the_writers_and_the_registry_name_the_same_datasets(registry: Registry) -> None:
    assert set(RENDERERS) == set(CATALOGUE) == set(registry.datasets)
    assert len(MONTHLY) == 13 and len(YEARLY) == 2
    for dataset, entry in CATALOGUE.items():
        spec = registry.dataset(dataset)
        assert (spec.channel.kind, spec.channel.format) == (entry.channel, entry.format), dataset
        assert spec.frequency == ("yearly" if entry.yearly else "monthly"), dataset
        if entry.due_working_day:
            assert spec.due.working_day == entry.due_working_day, dataset


def test_a_year_brings_every_monthly_dataset_and_what_marts_need_of_the_year_before() -> None:
    jobs = {(job.dataset, job.month) for job in jobs_for(date(2022, 1, 1), date(2022, 12, 1))}
    for dataset in MONTHLY:
        assert {m for d, m in jobs if d == dataset and m.year == 2022} == {date(2022, m, 1) for m in range(1, 13)}
    assert ("expropriation.demolition_progress", date(2021, 12, 1)) in jobs  # last year's total
    assert {(d, m) for d, m in jobs if d in YEARLY} == {(d, date(2021, 1, 1)) for d in YEARLY}
    assert not any(m.year == 2021 and d != "expropriation.demolition_progress" for d, m in jobs if d in MONTHLY)


def test_file_drops_land_where_the_registry_channel_says(drop: Path, manifest: dict, registry: Registry) -> None:
    for entry in manifest["files"]:
        spec = registry.dataset(entry["dataset"])
        if spec.channel.kind != "file":
            continue
        month = date(int(entry["month"][:4]), int(entry["month"][5:7] or 1), 1)
        candidates = {c.file_name: c for c in list_candidates(spec, str(drop), month)}
        name = Path(entry["path"]).name
        assert name in candidates, entry["path"]
        # The file drop takes the mtime as the time of receipt.
        assert candidates[name].received_at == datetime.fromisoformat(entry["delivered_at"]), entry["path"]


def test_yearly_reference_data_sits_in_a_folder_named_by_its_year(manifest: dict) -> None:
    for dataset in YEARLY:
        (entry,) = [f for f in manifest["files"] if f["dataset"] == dataset and f["month"] == "2021"]
        department, name = dataset.split(".")
        assert entry["path"].startswith(f"{department}/{name}/2021/")
        assert entry["due_date"] == "2022-03-31"
        assert "2022-03-01" <= entry["delivered_at"][:10] <= "2022-03-31"


def test_api_feeds_are_served_by_the_demo_api_server(helpers, drop: Path, manifest: dict, registry: Registry) -> None:
    assert manifest["api_root"] == "_api"
    server, _ = serve(
        drop / manifest["api_root"], token="demo-token", page_size=20, routes=routes_from_registry(registry)
    )
    try:
        for dataset, entry in CATALOGUE.items():
            if entry.channel != "api":
                continue
            spec = registry.dataset(dataset)
            file_entry = helpers.entry_of(manifest, dataset, "2022-07")
            assert file_entry is not None
            assert file_entry["path"] == f"_api/{spec.department}/{spec.name}/2022-07.json"
            endpoint = spec.channel.endpoint.split("?")[0]  # type: ignore[union-attr]
            answer = requests.get(
                f"{server.department_url(spec.department)}/{endpoint}",
                params={"month": "2022-07", "page": 2},
                headers={"Authorization": "Bearer demo-token"},
                timeout=5,
            )
            assert answer.status_code == 200, dataset
            page = answer.json()
            assert page["total"] == file_entry["rows"] > 20
            assert len(page["items"]) == min(20, file_entry["rows"] - 20)
    finally:
        server.stop()


def test_same_seed_same_bytes_and_a_month_does_not_depend_on_the_range(
    helpers, clean_manifest: dict, tmp_path: Path
) -> None:
    generate(str(tmp_path), date(2022, 7, 1), date(2022, 7, 1), seed=helpers.seed, defect_rate=0)
    alone = {(f["dataset"], f["month"]): f["sha256"] for f in helpers.load_manifest(tmp_path)["files"]}
    in_year = {(f["dataset"], f["month"]): f["sha256"] for f in clean_manifest["files"]}
    assert {k for k in alone if k[1] == "2022-07"} == {(d, "2022-07") for d in MONTHLY}
    for key, sha in alone.items():
        assert in_year[key] == sha, key
    for entry in helpers.load_manifest(tmp_path)["files"]:
        assert (tmp_path / entry["path"]).is_file()


def test_the_year_with_defects_is_the_same_whatever_range_is_asked(helpers, manifest: dict, tmp_path: Path) -> None:
    generate(str(tmp_path), date(2022, 3, 1), date(2022, 8, 1), seed=helpers.seed)
    part = helpers.load_manifest(tmp_path)
    wanted = [f for f in manifest["files"] if "2022-03" <= f["month"] <= "2022-08"]
    assert [(f["path"], f["sha256"]) for f in part["files"] if "2022-03" <= f["month"] <= "2022-08"] == [
        (f["path"], f["sha256"]) for f in wanted
    ]
    in_range = [d for d in manifest["defects"] if "2022-03" <= d["month"] <= "2022-08"]
    assert [d for d in part["defects"] if "2022-03" <= d["month"] <= "2022-08"] == in_range


def test_returns_the_files_written_the_manifest_last(tmp_path: Path) -> None:
    written = generate(str(tmp_path), date(2022, 3, 1), date(2022, 3, 1), defect_rate=0)
    # 13 monthly deliveries, last December's demolition figures and the two reference datasets.
    assert len(written) == 13 + 1 + 2 + 1
    assert written[-1] == f"{tmp_path}/manifest.json"
    assert all(Path(path).is_file() for path in written)


def test_another_seed_other_files_and_no_stale_version_left(helpers, tmp_path: Path) -> None:
    # January to March 2022 hold, for the demo seed, a delivery rejected and then corrected.
    generate(str(tmp_path), date(2022, 1, 1), date(2022, 3, 1), seed=helpers.seed)
    first = helpers.load_manifest(tmp_path)
    assert any(f.get("missing_field") for f in first["files"])
    generate(str(tmp_path), date(2022, 1, 1), date(2022, 3, 1), seed=99)
    manifest = helpers.load_manifest(tmp_path)
    assert {f["seed"] for f in manifest["files"]} == {99}
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert on_disk == listed, "every file on the drop is one the manifest lists"
    before = {f["path"]: f["sha256"] for f in first["files"]}
    assert any(before.get(f["path"]) != f["sha256"] for f in manifest["files"])


def test_a_later_range_keeps_the_earlier_months_in_the_manifest(tmp_path: Path) -> None:
    generate(str(tmp_path), date(2022, 1, 1), date(2022, 2, 1), defect_rate=0)
    generate(str(tmp_path), date(2022, 3, 1), date(2022, 3, 1), defect_rate=0)
    months = {f["month"] for f in read_manifest(str(tmp_path))["files"]}
    assert months == {"2021", "2021-12", "2022-01", "2022-02", "2022-03"}


def test_writes_through_fsspec() -> None:
    written = generate("memory://citydw-demo", date(2022, 7, 1), date(2022, 7, 1))
    fs = fsspec.filesystem("memory")
    assert any(w.startswith("memory://citydw-demo/drc/major_projects/2022-07/") for w in written)
    assert any(w.startswith("memory://citydw-demo/_api/education/schools/2022-07") for w in written)
    manifest = json.loads(fs.cat_file("/citydw-demo/manifest.json"))
    assert {f["month"] for f in manifest["files"]} >= {"2022-07"}
    fs.rm("/citydw-demo", recursive=True)


def test_deliveries_arrive_by_their_due_date_unless_the_manifest_says_late(manifest: dict) -> None:
    late = {(d["dataset"], d["month"]) for d in manifest["defects"] if d["kind"] == "late_delivery"}
    corrected = {(f["dataset"], f["month"]) for f in manifest["files"] if f.get("missing_field")}
    for entry in manifest["files"]:
        key = (entry["dataset"], entry["month"])
        arrived = entry["delivered_at"][:10]
        if key in late:
            assert arrived > entry["due_date"], key
        elif key not in corrected:
            assert arrived <= entry["due_date"], key
