"""Writing .xlsx safely: text never becomes a formula, and large exports are written row by row
(openpyxl's write-only mode) to a temporary file that is streamed to the client, never built whole
in memory."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Text starting with one of these is a formula (or DDE) to Excel and LibreOffice.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


def set_value(cell: Any, value: Any) -> Any:
    """Put a value in a cell (normal or write-only): numbers as numbers, text always as text.
    Formula-like text is stored as a string with Excel's quote prefix, so that neither opening nor
    editing the cell evaluates it."""
    if isinstance(value, Decimal):
        value = float(value)  # what Excel stores anyway: a double
    if isinstance(value, str):
        value = value.replace("\x00", "")
        cell.value = value
        cell.data_type = "s"  # openpyxl would take a leading "=" for a formula
        if is_formula_like(value):
            cell.quotePrefix = True
        return cell
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    cell.value = value
    return cell


def row_cells(ws: Worksheet, values: Iterable[Any], bold: bool = False) -> list[WriteOnlyCell]:
    """One row of a write-only sheet, every value made safe."""
    cells = []
    for value in values:
        cell = set_value(WriteOnlyCell(ws), value)
        if bold:
            cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def streamed_workbook(
    filename: str,
    sheet_title: str,
    header: list[str],
    rows: Iterable[Iterable[Any]],
    title: str = "",
) -> FileResponse:
    """An attachment written row by row: `rows` may be a lazy iterator over millions of records;
    memory stays flat (openpyxl write-only mode spools rows to disk)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title)
    if title:
        ws.append(row_cells(ws, [title], bold=True))
    ws.append(row_cells(ws, header, bold=True))
    for row in rows:
        ws.append(row_cells(ws, row))
    out = tempfile.TemporaryFile(suffix=".xlsx")
    wb.save(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX)
