"""A full disk under the archive: one clear line, nothing registered, no ``.partial`` file left behind.

As root the archive is put on a real 64 KiB tmpfs; where mounting is not
allowed, the archive's write fails with ENOSPC half-way instead (the same
OSError the kernel raises, after the same partial write).
"""

from __future__ import annotations

import errno
import subprocess
from datetime import date
from pathlib import Path

import pytest
from builders import drc_project, drc_workbook
from fsspec.implementations.local import LocalFileOpener

from citydw.orchestration import ingest_dataset, ingest_month
from citydw.settings import get_settings

JULY = date(2022, 7, 1)


@pytest.fixture
def full_archive(tmp_path, monkeypatch):
    """An archive folder with 64 KiB of room; yields a function that makes room again."""
    folder = tmp_path / "archive"
    folder.mkdir()
    mounted = (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True).returncode
        == 0
    )
    if not mounted:
        real_write = LocalFileOpener.write

        def write_until_full(self, data):
            real_write(self, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(LocalFileOpener, "write", write_until_full)
    monkeypatch.setenv("CITYDW_ARCHIVE_URL", str(folder))
    get_settings.cache_clear()

    def make_room():
        if mounted:
            subprocess.run(["mount", "-o", "remount,size=16m", str(folder)], check=True)
        else:
            monkeypatch.setattr(LocalFileOpener, "write", real_write)

    yield folder, make_room
    get_settings.cache_clear()
    if mounted:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_full_archive_is_one_clear_line_and_leaves_no_partial_file(db, tmp_path, full_archive):
    folder, make_room = full_archive
    report = tmp_path / "july.xlsx"
    report.write_bytes(drc_workbook([drc_project(n) for n in range(1, 1500)], JULY))
    assert report.stat().st_size > 64 * 1024

    [result] = ingest_month("2022-07", datasets=["drc.major_projects"], file=str(report))

    assert result.status == "error"
    assert "归档空间已满" in result.reason and "no space left on device" in result.reason
    assert "\n" not in result.reason and "Traceback" not in result.reason
    assert [p for p in Path(folder).rglob("*") if p.is_file()] == []  # no .partial litter
    assert db.execute("select count(*) from meta.deliveries").fetchone()[0] == 0
    assert db.execute("select outcome from meta.fetch_attempts order by attempt_id").fetchall() == [
        ("found",),
        ("error",),
    ]

    make_room()
    again = ingest_dataset("drc.major_projects", "2022-07", file=str(report))
    assert (again.status, again.version, again.rows_loaded) == ("accepted", 1, 1499)
