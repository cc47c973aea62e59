"""What an .xlsx's sheet XML says about its cells, read before the Excel library sees it.

calamine turns a sheet into a dense grid from A1 to the last filled cell, so
one cell at XFD1048576 asks for 17 billion cells (512 GB) and aborts the
process; and it reads an Excel error cell (``#DIV/0!``) or a formula that
was never calculated (a workbook written by a program, not saved by Excel)
as an empty cell, which would load as NULL without a word. This module
streams each worksheet part of the zip once, keeping only a few numbers per
sheet: how far its filled cells reach (checked against the cell limit as it
goes), the error cells and the formulas without a cached value — so the
reader can refuse the sheet before allocating anything, and turn those cells
into row problems that name the cell.

Cell styles are checked on the way: a style index that is not a number of
the workbook's style table (``s="1x"``) marks a file no spreadsheet program
wrote, and is rejected rather than left to crash a later step.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field

from citydw.parsing.limits import ReadLimits
from citydw.parsing.model import DeliveryUnreadable

_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})$")
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")


@dataclass
class SheetScan:
    """One worksheet as its XML declares it (rows and columns 1-based, as Excel numbers them)."""

    name: str
    last_row: int = 0  # the last row / column holding a value: the grid calamine allocates
    last_column: int = 0
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column) -> "#DIV/0!"
    uncached: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column) -> "=SUM(F4:F6)"


def declares_entities(chunk: bytes) -> bool:
    """Whether XML text holds a document type or entity declaration (no workbook part needs one)."""
    return any(marker in chunk for marker in _DTD_MARKERS)


def entity_rejection(file_name: str, part: str) -> DeliveryUnreadable:
    return DeliveryUnreadable(
        f"{file_name}：文件内部的{part}含有实体声明（<!DOCTYPE>或<!ENTITY>），Excel保存的工作簿从不含这些内容，"
        "疑似被篡改或恶意构造，已拒收。请在Excel中打开模板填写，另存为.xlsx后重新报送。"
    )


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet name → zip part, through the workbook's relationships (as the Excel library finds them)."""
    try:
        workbook = ET.fromstring(archive.read("xl/workbook.xml"))
        relations = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return {}
    targets = {}
    for entry in relations:
        target = entry.get("Target", "")
        targets[entry.get("Id")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    parts = {}
    for sheet in workbook.iter():
        if _local(sheet.tag) == "sheet" and sheet.get(f"{_REL_NS}id") in targets:
            parts[sheet.get("name", "")] = targets[sheet.get(f"{_REL_NS}id")]
    return parts


def style_count(archive: zipfile.ZipFile) -> int | None:
    """How many cell formats (``cellXfs``) the workbook's style table has; None without one."""
    try:
        root = ET.fromstring(archive.read("xl/styles.xml"))
    except (KeyError, ET.ParseError):
        return None
    for element in root:
        if _local(element.tag) == "cellXfs":
            return sum(1 for child in element if _local(child.tag) == "xf")
    return None


def scan_workbook(archive: zipfile.ZipFile, file_name: str, limits: ReadLimits) -> dict[str, SheetScan]:
    """Every worksheet's scan, by sheet name. Raises :class:`DeliveryUnreadable` for a sheet over
    ``limits.max_cells`` or a cell whose style index is not one of the workbook's."""
    styles = style_count(archive)
    names = set(archive.namelist())
    return {
        name: _scan_sheet(archive, name, part, file_name, limits, styles)
        for name, part in sheet_parts(archive).items()
        if part in names
    }


def _scan_sheet(
    archive: zipfile.ZipFile, name: str, part: str, file_name: str, limits: ReadLimits, styles: int | None
) -> SheetScan:
    scan = SheetScan(name)
    row = column = 0
    try:
        with archive.open(part) as stream:
            for event, element in ET.iterparse(stream, events=("start", "end")):
                tag = _local(element.tag)
                if event == "start":
                    if tag == "row":
                        written = element.get("r")
                        row = int(written) if written and written.isdigit() else row + 1
                        column = 0
                    continue
                if tag == "c":
                    row, column = _position(element.get("r"), row, column)
                    _check_style(element.get("s"), styles, name, row, column, file_name)
                    _note_cell(scan, element, row, column)
                    if scan.last_row * scan.last_column > limits.max_cells:
                        raise _too_many_cells(file_name, scan, row, column, limits)
                elif tag == "row":
                    element.clear()
    except ET.ParseError as error:
        raise DeliveryUnreadable(
            f"{file_name}：工作表“{name}”的内容已损坏，无法读取（XML第{error.position[0]}行有误）。"
            "请在Excel中打开后另存为.xlsx再报送。"
        ) from None
    return scan


_ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_ODS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


def scan_ods(archive: zipfile.ZipFile, file_name: str, limits: ReadLimits) -> None:
    """Reject an OpenDocument sheet (.ods, WPS/LibreOffice) whose filled cells reach past ``limits.max_cells``.

    OpenDocument places cells by counting, with ``number-rows-repeated`` and
    ``number-columns-repeated`` standing for runs of identical rows and cells;
    the Excel library expands those runs, so they are counted here the same
    way, up to the last filled cell of each table.
    """
    repeated_rows, repeated_columns = (
        f"{{{_ODS_TABLE}}}number-rows-repeated",
        f"{{{_ODS_TABLE}}}number-columns-repeated",
    )
    value_type = f"{{{_ODS_OFFICE}}}value-type"
    scan = SheetScan("")
    row = column = 0
    try:
        with archive.open("content.xml") as stream:
            for event, element in ET.iterparse(stream, events=("start", "end")):
                tag = _local(element.tag)
                if event == "start":
                    if tag == "table":
                        scan = SheetScan(element.get(f"{{{_ODS_TABLE}}}name", ""))
                        row = 0
                    elif tag == "table-row":
                        column = 0
                    continue
                if tag in ("table-cell", "covered-table-cell"):
                    count = _count(element.get(repeated_columns))
                    if element.get(value_type) or len(element):
                        scan.last_row, scan.last_column = (
                            max(scan.last_row, row + 1),
                            max(scan.last_column, column + count),
                        )
                        if scan.last_row * scan.last_column > limits.max_cells:
                            raise _too_many_cells(file_name, scan, scan.last_row, column + count, limits)
                    column += count
                elif tag == "table-row":
                    row += _count(element.get(repeated_rows))
                    element.clear()
    except (KeyError, ET.ParseError):
        return  # not readable as OpenDocument: the Excel library says so when it opens the file


def _count(repeated: str | None) -> int:
    return int(repeated) if repeated and repeated.isdigit() else 1


def _position(ref: str | None, row: int, column: int) -> tuple[int, int]:
    """(row, column) of a cell: its ``r`` reference, or the next column of the current row."""
    found = _REF.match(ref or "")
    if not found:
        return row, column + 1
    return int(found.group(2)), column_number(found.group(1))


def _check_style(style: str | None, styles: int | None, sheet: str, row: int, column: int, file_name: str) -> None:
    if style is None or (style.isdigit() and (styles is None or int(style) < max(styles, 1))):
        return
    raise DeliveryUnreadable(
        f"{file_name}：工作表“{sheet}”单元格{cell_name(row, column)}的样式编号“{style[:20]}”无效"
        f"（工作簿只有{styles or 0}种单元格格式），文件不是Excel保存的有效工作簿，可能已损坏或由其他程序生成。"
        "请在Excel中打开后另存为.xlsx再报送。"
    )


def _note_cell(scan: SheetScan, element: ET.Element, row: int, column: int) -> None:
    value = formula = None
    for child in element:
        tag = _local(child.tag)
        if tag in ("v", "is"):
            value = child
        elif tag == "f":
            formula = child
    if value is not None:
        scan.last_row, scan.last_column = max(scan.last_row, row), max(scan.last_column, column)
        if element.get("t") == "e":
            scan.errors[(row, column)] = (value.text or "").strip() or "#错误"
    elif formula is not None:
        scan.uncached[(row, column)] = f"={formula.text}" if formula.text else "=（共享公式）"


def _too_many_cells(file_name: str, scan: SheetScan, row: int, column: int, limits: ReadLimits) -> DeliveryUnreadable:
    return DeliveryUnreadable(
        f"{file_name}：工作表“{scan.name}”的单元格{cell_name(row, column)}有内容，数据范围达到"
        f"{scan.last_row:,}行×{scan.last_column:,}列，超过上限{limits.max_cells:,}个单元格"
        "（CITYDW_XLSX_MAX_CELLS），未读取，已拒收。请删除表格以外的行和列（选中后“删除”，不是“清除内容”）"
        "后重新报送。"
    )


def column_number(letters: str) -> int:
    """Excel's column letters as a 1-based number (A → 1, XFD → 16384)."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def cell_name(row: int, column: int) -> str:
    """Excel's name of a cell from 1-based row and column (7, 6 → "F7")."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"{letters}{row}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
