"""Content-addressed archive of every delivery's raw bytes.

A delivery is stored once under its sha256, whatever it was called and
however often it arrives, so any loaded row can be traced back to the exact
bytes it came from. The root is an fsspec URL (a local folder on a laptop,
s3:// or sftp:// when workers run on several machines).
"""

from __future__ import annotations

import errno
import hashlib
import posixpath
from dataclasses import dataclass

import fsspec


class ArchiveError(Exception):
    """The archive could not keep a delivery's bytes (disk full, no permission); says what to do.

    Nothing about the delivery is registered then: the next run tries again.
    """


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
    """Keep ``data`` under its checksum; storing the same bytes again writes nothing.

    Raises :class:`ArchiveError` when the archive cannot take the bytes,
    after removing what it had begun to write.
    """
    digest = sha256_of(data)
    uri = archive_uri(root, digest)
    fs, path = fsspec.core.url_to_fs(uri)
    if fs.exists(path):
        return ArchivedFile(sha256=digest, size_bytes=len(data), uri=uri)
    # Write beside the target and move into place, so a crash never
    # leaves a truncated file under a checksum that promises otherwise.
    partial = f"{path}.partial"
    try:
        fs.makedirs(posixpath.dirname(path), exist_ok=True)
        with fs.open(partial, "wb") as handle:
            handle.write(data)
        fs.mv(partial, path)
    except OSError as error:
        _remove_quietly(fs, partial)
        raise ArchiveError(_explain(error, root, len(data))) from error
    return ArchivedFile(sha256=digest, size_bytes=len(data), uri=uri)


def _remove_quietly(fs, path: str) -> None:
    try:
        if fs.exists(path):
            fs.rm(path)
    except OSError:
        pass  # the archive is in trouble already; the error being raised says so


def _explain(error: OSError, root: str, size: int) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"归档空间已满，无法保存本次报送（{size:,} 字节）；请清理 {root} 所在磁盘后重新运行。"
            f" / The archive is full (no space left on device under {root}): free space and run again."
        )
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"无权写入归档目录 {root}；请检查目录权限后重新运行。"
            f" / Cannot write to the archive {root} ({error.strerror}): check its permissions."
        )
    return f"归档失败：{error.strerror or error}（{root}） / Archiving failed under {root}: {error}"


def load(uri: str) -> bytes:
    with fsspec.open(uri, "rb") as handle:
        return handle.read()
