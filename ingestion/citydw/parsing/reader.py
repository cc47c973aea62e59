"""The one entry point from a delivered file to canonical rows.

``read_delivery`` picks the reader by the dataset's channel format. A CSV
channel that receives an Excel workbook (the magic bytes say so beyond doubt)
reads it as a workbook rather than rejecting a file the department filled in
correctly but saved in the other format.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from citydw.city import City
from citydw.parsing import csv, grid, records, xlsx
from citydw.parsing.limits import DEFAULT_LIMITS, ReadLimits
from citydw.parsing.limits import too_large as limits_too_large
from citydw.parsing.model import ParsedDelivery
from citydw.parsing.records import read_records
from citydw.registry import DatasetSpec

__all__ = ["Buildable", "lay_out_delivery", "read_delivery", "read_records"]


def read_delivery(
    data: bytes,
    file_name: str,
    spec: DatasetSpec,
    city: City,
    limits: ReadLimits = DEFAULT_LIMITS,
    *,
    report_month: date | None = None,
) -> ParsedDelivery:
    """Read one delivered file of dataset ``spec`` into canonical rows, within ``limits``.

    ``report_month``, when the caller knows it, decides what the file alone
    cannot: which of a workbook's month sheets ("7月", "8月") is the report,
    and which of two cumulative columns ("1-7月累计", "1-8月累计") is the
    field when the title names no month.

    Raises :class:`citydw.parsing.model.DeliveryUnreadable` when the file as
    a whole cannot be read; values that cannot be read are issues of their row.
    """
    return lay_out_delivery(data, file_name, spec, city, limits, report_month=report_month).build()


class Buildable(Protocol):
    """A delivery read and laid out; ``build`` converts its rows, handing each block to ``on_block``."""

    def build(self, on_block: grid.BlockHandler | None = None) -> ParsedDelivery: ...


class _Built:
    """A delivery read whole (a JSON feed): built already, handed on as one block."""

    def __init__(self, parsed: ParsedDelivery) -> None:
        self.parsed = parsed

    def build(self, on_block: grid.BlockHandler | None = None) -> ParsedDelivery:
        if on_block is not None:
            on_block(self.parsed.frame)
        return self.parsed


def lay_out_delivery(
    data: bytes,
    file_name: str,
    spec: DatasetSpec,
    city: City,
    limits: ReadLimits = DEFAULT_LIMITS,
    *,
    report_month: date | None = None,
) -> Buildable:
    """:func:`read_delivery` up to the conversion of its rows: ``.build(on_block)`` converts them,
    :attr:`ReadLimits.block_rows` at a time, and hands each block to ``on_block`` as it is ready.

    Raises :class:`citydw.parsing.model.DeliveryUnreadable` as :func:`read_delivery` does; ``build`` does not.
    """
    if len(data) > limits.max_file_bytes:
        raise limits_too_large(file_name, len(data), limits)
    channel_format = spec.channel.format
    if channel_format == "xlsx" or (channel_format == "csv" and xlsx.is_workbook(data)):
        return xlsx.lay_out_xlsx(data, file_name, spec, city, limits, report_month=report_month)
    if channel_format == "csv":
        return csv.lay_out_csv(data, file_name, spec, city, report_month=report_month, block_rows=limits.block_rows)
    if channel_format == "json":
        return _Built(records.read_json(data, file_name, spec, city))
    raise ValueError(f"{spec.id}: no reader for channel format {channel_format!r}")
