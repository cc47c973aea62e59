"""The dashboards as code: ``bi/`` in Superset's export format, imported into Superset and exported back.

``bi/`` holds what Superset's "export" writes, one YAML file per object,
reviewed like code: ``databases/citydw.yaml`` (the warehouse, as the BI role),
``datasets/citydw/*.yaml`` (SQL on ``marts`` only), ``charts/*.yaml`` and
``dashboards/*.yaml``. Two things differ from a raw export, so that a diff
shows only what a person changed: the database's address is committed as the
default one with the password masked (the real one, with ``citydw_bi``'s
password, is written in at import time), and
files are named after their titles (Superset names them ``<title>_<id>``,
dropping Chinese characters and numbering by the instance's ids).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from citydw.bi.api import SupersetApi

KINDS = ("databases", "datasets", "charts", "dashboards")
DATABASE_FILE = "databases/citydw.yaml"
# How the database's address reads in bi/: Superset's own mask stands for the password.
MASKED_PASSWORD = "XXXXXXXXXX"
PLACEHOLDER_URI = f"postgresql://citydw_bi:{MASKED_PASSWORD}@127.0.0.1:55432/citydw"
_TITLE_KEYS = {
    "databases": "database_name",
    "datasets": "table_name",
    "charts": "slice_name",
    "dashboards": "dashboard_title",
}


def read_files(folder: Path) -> dict[str, dict[str, Any]]:
    """Every YAML file of ``bi/`` by its path relative to the folder (``charts/….yaml``)."""
    found = {}
    for kind in KINDS:
        for path in sorted((folder / kind).rglob("*.yaml")):
            found[path.relative_to(folder).as_posix()] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return found


def bundle(folder: Path, bi_url: str) -> tuple[bytes, dict[str, str]]:
    """The zip Superset's ``/api/v1/assets/import/`` takes, and the passwords it needs.

    ``bi_url`` is the warehouse's URL with the BI role's credentials; its
    password travels in the passwords map, never in a file.
    """
    parts = urlsplit(bi_url)
    if parts.username != "citydw_bi":
        raise ValueError(f"Superset connects to the warehouse as citydw_bi, never as {parts.username!r}.")
    password = parts.password or ""
    masked = urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{password}@", f":{MASKED_PASSWORD}@", 1)))
    buffer = io.BytesIO()
    passwords = {}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        metadata = {"version": "1.0.0", "type": "assets", "timestamp": datetime.now(UTC).isoformat()}
        archive.writestr("citydw_bi/metadata.yaml", yaml.safe_dump(metadata))
        for name, config in read_files(folder).items():
            if name.startswith("databases/"):
                config = {**config, "sqlalchemy_uri": masked}
                passwords[name] = password
            archive.writestr(f"citydw_bi/{name}", _dump(config))
    return buffer.getvalue(), passwords


def import_dashboards(api: SupersetApi, folder: Path, bi_url: str) -> None:
    """Import (and overwrite) every database, dataset, chart and dashboard of ``bi/`` into Superset."""
    data, passwords = bundle(folder, bi_url)
    api.post(
        "/api/v1/assets/import/",
        files={"bundle": ("citydw_bi.zip", data, "application/zip")},
        data={"passwords": json.dumps(passwords)},
    )


def export_dashboards(api: SupersetApi, folder: Path) -> list[str]:
    """Write everything Superset holds back to ``bi/``, as reviewed files; returns the paths written.

    Files of ``bi/`` that Superset no longer has (a chart deleted in the UI)
    are removed, so the diff shows the deletion too.
    """
    existing = {config.get("uuid"): name for name, config in read_files(folder).items()}
    exported = dict(_exported_files(api.download("/api/v1/assets/export/")))
    written: dict[str, str] = {}
    for name, config in exported.items():
        kind = PurePosixPath(name).parts[0]
        if kind not in KINDS:
            continue
        if kind == "databases":
            config["sqlalchemy_uri"] = PLACEHOLDER_URI
        target = existing.get(config.get("uuid")) or _file_name(name, config, set(written))
        written[target] = _dump(config)
    for kind in KINDS:
        for path in (folder / kind).rglob("*.yaml"):
            if path.relative_to(folder).as_posix() not in written:
                path.unlink()
    for name, text in written.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(written)


def _exported_files(data: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            relative = PurePosixPath(*PurePosixPath(member).parts[1:]).as_posix()
            if relative.endswith(".yaml") and relative != "metadata.yaml":
                yield relative, yaml.safe_load(archive.read(member).decode("utf-8"))


def _file_name(exported: str, config: dict[str, Any], taken: set[str]) -> str:
    """``<kind>/[<database>/]<title>.yaml``, keeping Chinese titles readable."""
    path = PurePosixPath(exported)
    kind = path.parts[0]
    title = str(config.get(_TITLE_KEYS[kind]) or config.get("uuid"))
    stem = re.sub(r"[^\w\u4e00-\u9fff]+", "_", title).strip("_") or str(config.get("uuid"))
    name = str(path.parent / f"{stem}.yaml")
    if name in taken:
        name = str(path.parent / f"{stem}_{str(config.get('uuid'))[:8]}.yaml")
    return name


def _dump(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False, width=120)
