"""Limits of a workbook read (citydw.parsing.workbook_scan, the cell limit in citydw.parsing.xlsx).

The pipeline-level cases (XFD1048576, the entity bomb, s="1x", error cells)
are in tests/ingestion/test_hostile_input.py; these check the pieces.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from builders import drc_project, drc_workbook
from hostile import with_cell, with_far_cell
from python_calamine import CalamineWorkbook

from citydw.parsing import workbook_scan
from citydw.parsing.limits import DEFAULT_LIMITS, ReadLimits
from citydw.parsing.model import DeliveryUnreadable
from citydw.parsing.xlsx import _sheet_cells

JULY = date(2022, 7, 1)


def scan(data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> dict[str, workbook_scan.SheetScan]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return workbook_scan.scan_workbook(archive, "drc.xlsx", limits)


@pytest.mark.parametrize(("row", "column", "name"), [(1, 1, "A1"), (7, 6, "F7"), (1048576, 16384, "XFD1048576")])
def test_cells_are_named_as_excel_names_them(row, column, name):
    assert workbook_scan.cell_name(row, column) == name
    assert workbook_scan.column_number(name.rstrip("0123456789")) == column


def test_a_clean_report_scans_to_its_table():
    found = scan(drc_workbook([drc_project(1), drc_project(2)], JULY))["Sheet1"]
    assert (found.last_row, found.last_column) == (6, 17)  # title, unit, header, two rows, 合计
    assert found.errors == {} and found.uncached == {}


def test_error_cells_and_uncalculated_formulas_are_found_by_cell():
    data = drc_workbook([drc_project(1), drc_project(2)], JULY)
    data = with_cell(data, "G4", '<c r="G4" t="e"><f>G5/0</f><v>#DIV/0!</v></c>')
    data = with_cell(data, "J5", '<c r="J5"><f>J4+I5</f></c>')
    found = scan(data)["Sheet1"]
    assert found.errors == {(4, 7): "#DIV/0!"}
    assert found.uncached == {(5, 10): "=J4+I5"}


def test_a_far_cell_is_refused_while_scanning():
    with pytest.raises(DeliveryUnreadable, match=r"XFD1048576.*1,048,576行×16,384列"):
        scan(with_far_cell(drc_workbook([drc_project(1)], JULY)))


def test_the_cell_limit_also_holds_on_the_grid_calamine_built():
    """A legacy .xls cannot be scanned first; its grid is checked before its cells become Python objects."""
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(drc_workbook([drc_project(1)], JULY)))
    with pytest.raises(DeliveryUnreadable, match=r"5行×17列，超过上限80个单元格"):
        _sheet_cells(workbook, "Sheet1", "old.xls", ReadLimits(max_cells=80))
    assert len(_sheet_cells(workbook, "Sheet1", "old.xls", ReadLimits(max_cells=85))) == 5
