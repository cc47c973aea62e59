"""The demo drops the tests look at, generated once per session, and how to read them back.

``drop`` is the city's 2021 and 2022 with a real year's defects (what
``make demo`` loads, plus the year before); ``clean_drop`` is 2022 without
any. Both use the demo seed. Files are read back through the project's own
readers, exactly as the pipeline reads them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from citydw.city import City, load_city
from citydw.demo.generate import generate
from citydw.demo.world import World
from citydw.parsing.model import ParsedDelivery
from citydw.parsing.reader import read_delivery
from citydw.parsing.records import read_records
from citydw.registry import Registry, load_registry

SEED = 2022
FIRST, LAST = date(2021, 1, 1), date(2022, 12, 1)


@pytest.fixture(scope="session")
def city() -> City:
    return load_city()


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="session")
def world(city: City) -> World:
    return World(city, seed=SEED)


@pytest.fixture(scope="session")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("drop")
    generate(str(root), FIRST, LAST, seed=SEED)
    return root


@pytest.fixture(scope="session")
def clean_drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clean")
    generate(str(root), date(2022, 1, 1), date(2022, 12, 1), seed=SEED, defect_rate=0)
    return root


def load_manifest(root: Path) -> dict[str, Any]:
    return json.loads((root / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def manifest(drop: Path) -> dict[str, Any]:
    return load_manifest(drop)


@pytest.fixture(scope="session")
def clean_manifest(clean_drop: Path) -> dict[str, Any]:
    return load_manifest(clean_drop)


def entry_of(manifest: dict[str, Any], dataset: str, month: str) -> dict[str, Any] | None:
    """The file that stands for the delivery: the last version, or None if it never arrived."""
    entries = [f for f in manifest["files"] if f["dataset"] == dataset and f["month"] == month]
    return entries[-1] if entries else None


Reader = Callable[[str, str], ParsedDelivery | None]


def reader_for(root: Path, manifest: dict[str, Any], registry: Registry, city: City) -> Reader:
    cache: dict[tuple[str, str], ParsedDelivery | None] = {}

    def read(dataset: str, month: str) -> ParsedDelivery | None:
        if (dataset, month) not in cache:
            entry = entry_of(manifest, dataset, month)
            cache[(dataset, month)] = None if entry is None else read_entry(root, entry, registry, city)
        return cache[(dataset, month)]

    return read


def read_entry(root: Path, entry: dict[str, Any], registry: Registry, city: City) -> ParsedDelivery:
    spec = registry.dataset(entry["dataset"])
    path = root / entry["path"]
    if entry["channel"] == "api":
        return read_records(json.loads(path.read_text(encoding="utf-8")), spec, city, path.name)
    return read_delivery(path.read_bytes(), path.name, spec, city)


@pytest.fixture(scope="session")
def read(drop: Path, manifest: dict[str, Any], registry: Registry, city: City) -> Reader:
    """``read(dataset, "2022-07")``: the delivery as the pipeline parses it (None if it never arrived)."""
    return reader_for(drop, manifest, registry, city)


@pytest.fixture(scope="session")
def read_clean(clean_drop: Path, clean_manifest: dict[str, Any], registry: Registry, city: City) -> Reader:
    return reader_for(clean_drop, clean_manifest, registry, city)


def defects_of(manifest: dict[str, Any], dataset: str, month: str | None = None) -> list[dict[str, Any]]:
    return [d for d in manifest["defects"] if d["dataset"] == dataset and (month is None or d["month"] == month)]


class Helpers:
    """The helpers above, for test modules (a conftest cannot be imported under --import-mode=importlib)."""

    seed = SEED
    load_manifest = staticmethod(load_manifest)
    entry_of = staticmethod(entry_of)
    defects_of = staticmethod(defects_of)
    read_entry = staticmethod(read_entry)
    reader_for = staticmethod(reader_for)


@pytest.fixture(scope="session")
def helpers() -> type[Helpers]:
    return Helpers
