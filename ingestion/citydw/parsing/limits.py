"""How much a delivery may ask of the machine, checked before it is read.

A monthly report is a few hundred rows; a hostile or broken file can claim
gigabytes (a 5 GB sparse workbook, a zip bomb) or a sheet of 17 billion
cells (one cell at XFD1048576, which makes the Excel library try to
allocate 512 GB and abort the process). Each limit is checked from what the
file declares — its size on the drop, the zip directory, the cell
references in the sheet's XML — before anything large is allocated, and a
file over a limit is rejected with a message in Chinese that says which
limit and what to do. The limits are settings (``citydw.settings``); the
defaults leave room for a hundred times the largest real delivery.
"""

from __future__ import annotations

from dataclasses import dataclass

from citydw.parsing.model import DeliveryUnreadable

MIB = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """The limits one read of a delivery is held to."""

    max_file_bytes: int = 1024 * MIB
    """Any delivery file, as stored on the drop (CSV with a million rows is about 200 MB)."""

    max_unpacked_bytes: int = 200 * MIB
    """An .xlsx's parts once inflated (the zip directory's sizes first, then counted)."""

    max_cells: int = 5_000_000
    """An Excel sheet's cells from A1 to its last filled cell (rows × columns): what the reader allocates."""

    block_rows: int = 100_000
    """Rows converted at a time (``citydw ingest`` COPYs each block while the next one is converted)."""

    @classmethod
    def from_settings(cls, settings) -> ReadLimits:
        return cls(
            max_file_bytes=settings.max_file_bytes,
            max_unpacked_bytes=settings.xlsx_max_unpacked_bytes,
            max_cells=settings.xlsx_max_cells,
            block_rows=settings.ingest_block_rows,
        )


def too_large(file_name: str, size: int, limits: ReadLimits) -> DeliveryUnreadable:
    """The rejection of a file larger than :attr:`ReadLimits.max_file_bytes`, before reading it."""
    return DeliveryUnreadable(
        f"{file_name}：文件大小{_size(size)}，超过上限{_size(limits.max_file_bytes)}（CITYDW_MAX_FILE_BYTES），"
        "未读取，已拒收。月报只应有几千行；请删除多余的工作表、空白行列和图片后重新报送。"
    )


def _size(size: int) -> str:
    return f"{size / MIB:,.0f} MB" if size >= MIB else f"{size:,} 字节"


DEFAULT_LIMITS = ReadLimits()
"""The defaults, for readers called without the settings (tests, the portal's pre-check)."""
