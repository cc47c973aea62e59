"""The one entry point from a delivered file to canonical rows.

``read_delivery`` picks the reader by the dataset's channel format. A CSV
channel that receives an Excel workbook (the magic bytes say so beyond doubt)
reads it as a workbook rather than rejecting a file the department filled in
correctly but saved in the other format.
"""

from __future__ import annotations

from datetime import date

from citydw.city import City
from citydw.parsing import csv, records, xlsx
from citydw.parsing.limits import DEFAULT_LIMITS, ReadLimits
from citydw.parsing.limits import too_large as limits_too_large
from citydw.parsing.model import ParsedDelivery
from citydw.parsing.records import read_records
from citydw.registry import DatasetSpec

__all__ = ["read_delivery", "read_records"]


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
    if len(data) > limits.max_file_bytes:
        raise limits_too_large(file_name, len(data), limits)
    channel_format = spec.channel.format
    if channel_format == "xlsx" or (channel_format == "csv" and xlsx.is_workbook(data)):
        return xlsx.read_xlsx(data, file_name, spec, city, limits, report_month=report_month)
    if channel_format == "csv":
        return csv.read_csv(data, file_name, spec, city, report_month=report_month)
    if channel_format == "json":
        return records.read_json(data, file_name, spec, city)
    raise ValueError(f"{spec.id}: no reader for channel format {channel_format!r}")
