"""What a reader returns, and how it says a file cannot be read at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

SOURCE_ROW = "source_row"
"""Column carrying each row's 1-based row number in the department's own file."""


class DeliveryUnreadable(Exception):
    """The file as a whole cannot be read: not the format it claims, empty, no header row.

    The message names the file and says what is wrong and what to do; the
    delivery is rejected and nothing of it is loaded.
    """


@dataclass(frozen=True)
class ParseIssue:
    """A value that could not be turned into its canonical type; its row is quarantined."""

    source_row: int
    field: str
    header: str
    value: str
    rule_id: str  # e.g. "parse.decimal", "parse.date"
    message: str  # in Chinese, for the department: what is wrong, what is expected


@dataclass
class ParsedDelivery:
    """Canonical rows read from one file.

    ``frame`` has one column per registry field found in the file (named by
    the field, converted to its type and canonical unit) plus ``source_row``.
    Fields the file lacks are *absent*, not empty, so the suite's
    ``expect_column_to_exist`` rules can reject the delivery; fields that
    failed to parse are null in their row and listed in ``issues``.

    Column dtypes: text/district/region_code → pandas string; decimal and
    percent → float64 (rounded to 6 places after unit conversion); integer →
    Int64; date → datetime64 (midnight); boolean → pandas "boolean".
    """

    frame: pd.DataFrame
    file_name: str
    headers: dict[str, str] = field(default_factory=dict)  # field -> header as written in the file
    units: dict[str, str] = field(default_factory=dict)  # field -> unit as written, where one was found
    declared_month: date | None = None  # month the title names ("2022年1-7月" → 2022-07-01)
    issues: list[ParseIssue] = field(default_factory=list)
    extra_headers: list[str] = field(default_factory=list)  # headers not in the template, ignored
    sheet: str | None = None
    # The file's own total row(s), numeric fields in canonical units, for the
    # "total equals the sum of the rows" rule; never loaded. None without one.
    total_rows: pd.DataFrame | None = None
    # What the file says about itself: the cells above the header (title, 填报单位,
    # 填报日期) and the notes under the table. Never loaded; read by the rule
    # that asks whether the file is this dataset's report at all.
    context_lines: list[str] = field(default_factory=list)

    def where_and_seen(self) -> str:
        """The file, the sheet read and the headers it has, for a rejection about columns.

        "见到的表头" lets a clerk tell a misspelt header (it is listed) from a
        missing one (it is not).
        """
        sheet = f"工作表“{self.sheet}”，" if self.sheet else ""
        seen = "、".join([*self.headers.values(), *self.extra_headers]) or "无"
        unplaced = f"；其中不是模板列的：{'、'.join(self.extra_headers)}" if self.extra_headers else ""
        return f"（文件“{self.file_name}”，{sheet}见到的表头：{seen}{unplaced}）"
