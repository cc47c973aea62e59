"""Content-addressed archive of every delivery's raw bytes.

A delivery is stored once under its sha256, whatever it was called and
however often it arrives, so any loaded row can be traced back to the exact
bytes it came from. The root is an fsspec URL (a local folder on a laptop,
s3:// or sftp:// when workers run on several machines).
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass

import fsspec


@dataclass(frozen=True)
class ArchivedFile:
    sha256: str
    size_bytes: int
    uri: str


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive_uri(root: str, sha256: str) -> str:
    # Two levels of fan-out keep folders small after years of deliveries.
    return posixpath.join(root.rstrip("/"), "sha256", sha256[:2], sha256[2:4], sha256)


def store(root: str, data: bytes) -> ArchivedFile:
    """Keep ``data`` under its checksum; storing the same bytes again writes nothing."""
    digest = sha256_of(data)
    uri = archive_uri(root, digest)
    fs, path = fsspec.core.url_to_fs(uri)
    if not fs.exists(path):
        fs.makedirs(posixpath.dirname(path), exist_ok=True)
        # Write beside the target and move into place, so a crash never
        # leaves a truncated file under a checksum that promises otherwise.
        partial = f"{path}.partial"
        with fs.open(partial, "wb") as handle:
            handle.write(data)
        fs.mv(partial, path)
    return ArchivedFile(sha256=digest, size_bytes=len(data), uri=uri)


def load(uri: str) -> bytes:
    with fsspec.open(uri, "rb") as handle:
        return handle.read()
