"""File drops: a folder per dataset and month under any fsspec URL.

Every file in the dataset's folder for the month is a version of its
delivery; a department that corrects its report drops a new file beside the
old one. The time a file arrived is its modification time on the drop, so a
late delivery is late in the ledger whenever the pipeline happens to run.
"""

from __future__ import annotations

import fnmatch
import posixpath
from datetime import UTC, date, datetime
from functools import partial

import fsspec

from citydw.registry import DatasetSpec
from citydw.sources import Candidate


def month_token(spec: DatasetSpec, month: date) -> str:
    return f"{month:%Y}" if spec.frequency == "yearly" else f"{month:%Y-%m}"


def delivery_folder(spec: DatasetSpec, drop_root: str, month: date) -> str:
    assert spec.channel.path is not None
    relative = spec.channel.path.format(month=month_token(spec, month), year=f"{month:%Y}")
    return posixpath.join(drop_root.rstrip("/"), relative)


def _modified_at(info: dict) -> datetime:
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, tz=UTC)
    return datetime.now(tz=UTC)


def list_candidates(spec: DatasetSpec, drop_root: str, month: date) -> list[Candidate]:
    """The files dropped for ``spec`` and ``month``, oldest first."""
    folder = delivery_folder(spec, drop_root, month)
    fs, path = fsspec.core.url_to_fs(folder)
    if not fs.isdir(path):
        return []
    candidates = []
    for info in fs.ls(path, detail=True):
        name = posixpath.basename(info["name"].rstrip("/"))
        if info.get("type") != "file" or name.startswith((".", "~$")):
            continue  # hidden files and Excel's lock files are not deliveries
        if not fnmatch.fnmatchcase(name.casefold(), spec.channel.glob.casefold()):
            continue  # case-blind: Windows writes "REPORT.XLSX" as often as "report.xlsx"
        full_path = info["name"]
        candidates.append(
            Candidate(
                file_name=name,
                source_uri=fs.unstrip_protocol(full_path),
                received_at=_modified_at(info),
                read=partial(fs.cat_file, full_path),
                size=info.get("size"),
            )
        )
    return sorted(candidates, key=lambda c: (c.received_at, c.file_name))


def candidate_from_file(url: str) -> Candidate:
    """A file handed over by an operator (``citydw ingest --file``): received now."""
    fs, path = fsspec.core.url_to_fs(url)
    return Candidate(
        file_name=posixpath.basename(path),
        source_uri=fs.unstrip_protocol(path),
        received_at=datetime.now(tz=UTC),
        read=partial(fs.cat_file, path),
        size=fs.size(path) if fs.isfile(path) else None,
    )
