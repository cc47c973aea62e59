"""Reading an Excel workbook (.xlsx, or a legacy .xls) with calamine.

Before calamine sees an .xlsx, the zip container is checked: a file that is
not a workbook, a truncated upload, a zip bomb, XML with entity declarations
and a sheet whose cells reach further than :class:`ReadLimits` allows are
rejected with a message that names the file, instead of a crash or a process
that eats the server's memory (see :mod:`citydw.parsing.workbook_scan`).
Excel error cells and formulas without a cached value, which calamine reads
as empty, become row problems naming the cell. The sheet to read is the one
whose header names the most template columns (visible sheets first on a
tie); its cells become text, values of vertically merged cells are carried
down, and the rows go through the shared layout and value rules of
:mod:`citydw.parsing.grid`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator

from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from citydw.city import City
from citydw.parsing import grid, workbook_scan
from citydw.parsing.limits import DEFAULT_LIMITS, ReadLimits
from citydw.parsing.model import SOURCE_ROW, DeliveryUnreadable, ParsedDelivery, ParseIssue
from citydw.parsing.values import cell_text
from citydw.registry import DatasetSpec

MAX_RATIO = 1000
"""Largest compression ratio of a part over 1 MiB: sheet XML packs 10–100×, a bomb 1000×."""

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # legacy .xls, and any password-protected workbook

Cell = int | float | str | bool | dt.time | dt.date | dt.datetime | dt.timedelta
"""A cell as calamine returns it."""

_MIB = 1024 * 1024
_CHUNK = _MIB


def is_workbook(data: bytes) -> bool:
    """Whether ``data`` starts like an Excel workbook (zip container or legacy OLE file)."""
    return data.startswith(ZIP_MAGIC) or data.startswith(OLE_MAGIC)


def read_xlsx(
    data: bytes,
    file_name: str,
    spec: DatasetSpec,
    city: City,
    limits: ReadLimits = DEFAULT_LIMITS,
    *,
    report_month: dt.date | None = None,
) -> ParsedDelivery:
    """Read a department's workbook into canonical rows (see :func:`lay_out_xlsx`)."""
    return lay_out_xlsx(data, file_name, spec, city, limits, report_month=report_month).build()


def lay_out_xlsx(
    data: bytes,
    file_name: str,
    spec: DatasetSpec,
    city: City,
    limits: ReadLimits = DEFAULT_LIMITS,
    *,
    report_month: dt.date | None = None,
) -> grid.LaidOut:
    """A department's workbook laid out, its rows converted by :meth:`grid.LaidOut.build`.

    The sheet read is the one whose header names the most template columns
    (a pivot or summary sheet before the data does not win by coming first);
    among equals, one whose name or title names ``report_month`` ("8月"),
    then the first. When the workbook has several sheets, messages name the
    sheet.
    """
    if not data:
        raise DeliveryUnreadable(f"{file_name}：文件为空（0字节）。请重新导出后报送。")
    scans: dict[str, workbook_scan.SheetScan] = {}
    if data.startswith(ZIP_MAGIC):
        check_zip(data, file_name, limits)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            scans = workbook_scan.scan_workbook(archive, file_name, limits)
            if not scans and "content.xml" in archive.namelist():
                workbook_scan.scan_ods(archive, file_name, limits)
    elif not data.startswith(OLE_MAGIC):
        raise DeliveryUnreadable(
            f"{file_name}：不是有效的Excel文件（{_looks_like(data)}）。请在Excel中填写模板，另存为.xlsx后报送。"
        )
    workbook = _open(data, file_name)
    with workbook:
        sheets = list(_sheet_order(workbook))
        filled, damaged = _filled_sheets(workbook, sheets, file_name, limits)
        ranks = [(grid.header_score(head, spec), _names_month(name, head, report_month)) for name, _, head in filled]
        name, cells, _ = filled[max(range(len(filled)), key=lambda index: (*ranks[index], -index))]
        rows = [[cell_text(cell) for cell in row] for row in cells]
        where = f"{file_name}（工作表“{name}”）" if len(sheets) > 1 else file_name
        layout = grid.find_layout(rows, spec, where, report_month=report_month)
        if layout is None:
            raise damaged or _no_header(file_name, spec, filled)
        if data.startswith(ZIP_MAGIC):
            _show_percent_cells(rows, cells, layout, spec, data, name)
        _carry_merged_cells_down(rows, workbook, name, layout.data_start)
        body = grid.grid_from_rows(rows[layout.data_start :], layout.data_start + 1, layout.width)
        laid_out = grid.lay_out(body, layout, spec, city, file_name, sheet=name, block_rows=limits.block_rows)
        if name in scans:
            scan = scans[name]
            laid_out.finish = lambda parsed: _add_cell_issues(parsed, scan, layout)
        return laid_out


def _names_month(name: str, head: list[list[str]], month: dt.date | None) -> bool:
    """Whether a sheet is the report month's: named "8月"/"2022.08", or titled for that month."""
    if month is None:
        return False
    if re.search(rf"(?<!\d)0?{month.month}\s*月|{month.year}\D?0?{month.month}(?!\d)", name):
        return True
    titles = [cell for row in head[:5] for cell in row if cell.strip()]
    return grid.month_in_titles(titles) == month.replace(day=1)


Sheet = tuple[str, list[list[Cell]], list[list[str]]]
"""A sheet with cells: its name, its cells, and its first rows as text (to find the header)."""


def _filled_sheets(
    workbook: CalamineWorkbook, sheets: list[str], file_name: str, limits: ReadLimits
) -> tuple[list[Sheet], DeliveryUnreadable | None]:
    """The sheets with at least one cell, and the error of the first damaged one (if another can be read).

    Raises :class:`DeliveryUnreadable` when no sheet has a cell.
    """
    filled: list[Sheet] = []
    damaged: DeliveryUnreadable | None = None
    for name in sheets:
        try:
            cells = _sheet_cells(workbook, name, file_name, limits)
        except DeliveryUnreadable as error:  # a damaged decoy sheet does not sink the report beside it
            damaged = damaged or error
            continue
        if any(any(cell != "" for cell in row) for row in cells):
            filled.append((name, cells, [[cell_text(cell) for cell in row] for row in cells[: grid.HEAD_ROWS]]))
    if not filled and damaged is not None:
        raise damaged
    if not filled:
        raise DeliveryUnreadable(f"{file_name}：工作簿中没有数据（所有工作表都是空的）。请填写模板后重新报送。")
    return filled, damaged


def _no_header(file_name: str, spec: DatasetSpec, filled: list[Sheet]) -> DeliveryUnreadable:
    """Why no sheet holds the template's header: each sheet searched and the headers seen on it."""
    seen = [f"已查找工作表：{'、'.join(name for name, _, _ in filled)}"]
    for name, cells, rows in filled:
        first = next((index for index, row in enumerate(cells) if any(cell != "" for cell in row)), 0)
        if first >= grid.HEAD_ROWS:
            seen.append(
                f"工作表“{name}”前{grid.HEAD_ROWS}行是空的，内容从第{first + 1}行开始（表头须在前{grid.HEAD_ROWS}行内）"
            )
            continue
        headers = grid.headers_seen(rows, spec)
        shown = "、".join(headers[:20]) if headers else "无"
        seen.append(f"工作表“{name}”见到的表头：{shown}")
    return grid.no_header(file_name, spec, f"（{'；'.join(seen)}）")


def _carry_merged_cells_down(rows: list[list[str]], workbook: CalamineWorkbook, sheet: str, data_start: int) -> None:
    """Give every cell of a vertically merged range in the data its value ("江都区" merged over 7 projects).

    Excel keeps a merged range's value in its top-left cell only; the cells
    below are part of it, so each row of the range holds that value.
    Horizontal-only merges (a section row across the table) are left alone.
    """
    try:
        ranges = workbook.get_sheet_by_name(sheet).merged_cell_ranges or []
    except Exception:  # a legacy .xls without merge records: nothing to carry
        return
    for (top, left), (bottom, right) in ranges:
        if bottom <= top or top < data_start or top >= len(rows):
            continue
        for row in range(top + 1, min(bottom, len(rows) - 1) + 1):
            for column in range(left, right + 1):
                if column < len(rows[top]) and column < len(rows[row]) and not rows[row][column].strip():
                    rows[row][column] = rows[top][column]


# --- the container --------------------------------------------------------------


def check_zip(data: bytes, file_name: str, limits: ReadLimits = DEFAULT_LIMITS) -> None:
    """Reject a truncated or corrupt .xlsx, a zip that is not a workbook, a zip bomb, and XML
    parts declaring entities (the "billion laughs" in styles.xml).

    The declared sizes are checked first (cheap, and enough for an honest
    bomb); then every part is inflated in chunks and counted, which also
    verifies the CRCs, so a header that lies about its size or a damaged
    part is caught here rather than inside the Excel parser.
    """
    max_unpacked = limits.max_unpacked_bytes
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise _damaged(file_name) from None
    with archive:
        parts = archive.infolist()
        declared = sum(part.file_size for part in parts)
        packed_too_hard = [
            part.filename
            for part in parts
            if part.file_size > _MIB and part.file_size > MAX_RATIO * max(part.compress_size, 1)
        ]
        if declared > max_unpacked or packed_too_hard:
            raise _bomb(file_name, max_unpacked)
        names = {part.filename for part in parts}
        if not any(name.startswith("xl/") for name in names) and "content.xml" not in names:
            raise DeliveryUnreadable(
                f"{file_name}：不是有效的Excel文件（是一个压缩包，但里面没有工作表）。请另存为.xlsx后报送。"
            )
        unpacked = 0
        try:
            for part in parts:
                tail = b""  # the end of the previous chunk, so a declaration split between two is seen
                with archive.open(part) as stream:
                    while chunk := stream.read(_CHUNK):
                        unpacked += len(chunk)
                        if unpacked > max_unpacked:
                            raise _bomb(file_name, max_unpacked)
                        if workbook_scan.declares_entities(tail + chunk):
                            raise workbook_scan.entity_rejection(file_name, part.filename)
                        tail = chunk[-16:]
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError):
            raise _damaged(file_name) from None


def _damaged(file_name: str) -> DeliveryUnreadable:
    return DeliveryUnreadable(
        f"{file_name}：Excel文件已损坏或不完整（可能是上传中断），无法读取。请重新导出并报送完整的文件。"
    )


def _bomb(file_name: str, max_unpacked: int) -> DeliveryUnreadable:
    return DeliveryUnreadable(
        f"{file_name}：文件解压后超过{max_unpacked // _MIB} MB或压缩比异常（疑似压缩炸弹），已拒收。"
        "月报只应有几百行；请删除多余的工作表和空白行列后重新报送。"
    )


def _looks_like(data: bytes) -> str:
    """What a file that is not a workbook seems to be, to help the clerk find the right one."""
    head = data[:512].lstrip()
    if head.startswith(b"%PDF"):
        return "看起来是PDF文件"
    if head[:1] == b"<":
        return "看起来是网页(HTML/XML)文件，常见于从业务系统“导出Excel”得到的文件"
    if b"\x00" not in head:
        return "看起来是文本文件，例如改了扩展名的CSV"
    return "文件格式无法识别"


def _open(data: bytes, file_name: str) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as error:  # calamine raises several error types for one fact: cannot open
        raise DeliveryUnreadable(
            f"{file_name}：Excel文件无法打开（可能设有密码，或已损坏：{type(error).__name__}）。"
            "请去除密码、重新另存为.xlsx后报送。"
        ) from error


# --- sheets -----------------------------------------------------------------------


def _sheet_order(workbook: CalamineWorkbook) -> Iterator[str]:
    """Worksheets, visible ones first, each group in workbook order."""
    sheets = [meta for meta in workbook.sheets_metadata if meta.typ == SheetTypeEnum.WorkSheet]
    yield from (meta.name for meta in sheets if meta.visible == SheetVisibleEnum.Visible)
    yield from (meta.name for meta in sheets if meta.visible != SheetVisibleEnum.Visible)


def _sheet_cells(
    workbook: CalamineWorkbook, name: str, file_name: str, limits: ReadLimits = DEFAULT_LIMITS
) -> list[list[Cell]]:
    """The sheet's cells from A1 (row i is Excel row i + 1), as calamine types them.

    A legacy .xls cannot be scanned before calamine reads it (its sheets are
    binary), but its grid is at most 65,536 × 256; the cell limit is checked
    on calamine's grid before its cells become Python objects.
    """
    try:
        sheet = workbook.get_sheet_by_name(name)
        area = (
            (sheet.start[0] if sheet.start else 0) + sheet.height,
            (sheet.start[1] if sheet.start else 0) + sheet.width,
        )
        if area[0] * area[1] > limits.max_cells:
            raise _sheet_too_large(file_name, name, area, limits)
        return sheet.to_python(skip_empty_area=False)
    except DeliveryUnreadable:
        raise
    except Exception as error:
        raise DeliveryUnreadable(
            f"{file_name}：工作表“{name}”已损坏，无法读取（{type(error).__name__}）。请重新导出并报送。"
        ) from error


def _sheet_too_large(file_name: str, name: str, area: tuple[int, int], limits: ReadLimits) -> DeliveryUnreadable:
    return DeliveryUnreadable(
        f"{file_name}：工作表“{name}”的数据范围达到{area[0]:,}行×{area[1]:,}列，超过上限{limits.max_cells:,}个单元格"
        "（CITYDW_XLSX_MAX_CELLS），未读取，已拒收。请删除表格以外的行和列（选中后“删除”，不是“清除内容”）后重新报送。"
    )


# --- cells calamine reads as empty: error values, formulas never calculated ---------------------


def _add_cell_issues(parsed: ParsedDelivery, scan: workbook_scan.SheetScan, layout: grid.Layout) -> None:
    """A row problem for each error cell and uncalculated formula in a template column of a data row."""
    fields = {column + 1: name for name, column in layout.columns.items()}  # 1-based, as the scan counts
    rows = set(parsed.frame[SOURCE_ROW].tolist())
    found = []
    for cells, rule_id in ((scan.errors, "parse.cell_error"), (scan.uncached, "parse.formula_uncached")):
        for (row, column), written in cells.items():
            if row not in rows or column not in fields:
                continue
            cell = workbook_scan.cell_name(row, column)
            if rule_id == "parse.cell_error":
                message = f"单元格{cell}是公式错误{written}，请改正公式或直接填写数值"
            else:
                message = f"单元格{cell}的公式没有计算结果，请在Excel中打开后保存再报送"
            field = fields[column]
            found.append(ParseIssue(row, field, layout.headers[field], written, rule_id, message))
    if found:
        order = {name: position for position, name in enumerate(layout.columns)}
        parsed.issues.extend(found)
        parsed.issues.sort(key=lambda issue: (issue.source_row, order.get(issue.field, 0)))


# --- cells formatted as a percentage -------------------------------------------------

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_PERCENT_FORMAT_IDS = frozenset({9, 10})  # Excel's built-in "0%" and "0.00%"
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")


def _show_percent_cells(
    rows: list[list[str]], cells: list[list[Cell]], layout: grid.Layout, spec: DatasetSpec, data: bytes, sheet: str
) -> None:
    """Write percent-formatted numbers of percent fields as the clerk sees them (0.852 → "85.2%").

    Excel stores "85.2%" as 0.852 and calamine does not say how a cell is
    formatted, so the formats are read from the workbook's styles. Only
    percent fields are touched, and only when the template has one.
    """
    columns = {layout.columns[f.field] for f in spec.fields if f.type == "percent" and f.field in layout.columns}
    if not columns:
        return
    for row, column in percent_cells(data, sheet):
        if column in columns and row < len(cells) and isinstance(cells[row][column], float):
            rows[row][column] = cell_text(cells[row][column], as_percent=True)


def percent_cells(data: bytes, sheet: str) -> set[tuple[int, int]]:
    """0-based (row, column) of the numeric cells of ``sheet`` formatted as a percentage."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        styles = _percent_styles(archive)
        path = _sheet_path(archive, sheet)
        if not styles or path is None:
            return set()
        found = set()
        with archive.open(path) as stream:
            for _, element in ET.iterparse(stream):
                if element.tag != f"{_MAIN_NS}c":
                    continue
                style, ref = element.get("s"), _CELL_REF.match(element.get("r") or "")
                if style and int(style) in styles and element.get("t") in (None, "n") and ref:
                    found.add((int(ref.group(2)) - 1, _column_index(ref.group(1))))
                element.clear()
        return found


def _percent_styles(archive: zipfile.ZipFile) -> set[int]:
    """Indices of the cell styles whose number format shows a percentage."""
    try:
        root = ET.fromstring(archive.read("xl/styles.xml"))
    except KeyError:
        return set()
    custom = {int(fmt.get("numFmtId", "-1")): fmt.get("formatCode", "") for fmt in root.iter(f"{_MAIN_NS}numFmt")}
    percent_ids = set(_PERCENT_FORMAT_IDS)
    for format_id, code in custom.items():
        if "%" in re.sub(r'"[^"]*"|\\.', "", code):  # a % that is not quoted or escaped
            percent_ids.add(format_id)
    cell_styles = root.find(f"{_MAIN_NS}cellXfs")
    if cell_styles is None:
        return set()
    return {
        index
        for index, style in enumerate(cell_styles.findall(f"{_MAIN_NS}xf"))
        if int(style.get("numFmtId", "0")) in percent_ids
    }


def _sheet_path(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The part holding the sheet named ``sheet``, via the workbook's relationships."""
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    relation = next((s.get(f"{_REL_NS}id") for s in workbook.iter(f"{_MAIN_NS}sheet") if s.get("name") == sheet), None)
    relations = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for entry in relations.iter(f"{_PACKAGE_REL_NS}Relationship"):
        if entry.get("Id") == relation:
            target = entry.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1
