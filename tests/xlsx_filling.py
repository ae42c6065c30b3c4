"""Filling a downloaded data template the way a user does in a spreadsheet program (with openpyxl):
find the row of a field or indicator by its label, type into the yellow cells, save."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import load_workbook

from transfer.template import (
    BASIC_KEY_COLUMN,
    BASIC_SHEET,
    FIRST_ROW,
    INDICATOR_COLUMNS,
    INDICATOR_KEY_COLUMN,
    INDICATOR_SHEET,
    PRODUCT_NUMBER_COLUMNS,
    PRODUCT_SHEET,
    PRODUCT_TEXT_COLUMNS,
)


def row_of(ws: Any, key_column: int, key: str) -> int:
    for row in range(FIRST_ROW, ws.max_row + 1):
        if ws.cell(row=row, column=key_column).value == key:
            return row
    raise KeyError(key)


def fill(
    content: bytes,
    *,
    basic: dict[str, Any] | None = None,
    indicators: dict[str, dict[str, Any]] | None = None,
    products: list[dict[str, Any]] | None = None,
    edit: Any = None,
) -> bytes:
    """`indicators`: code → {column: value}; `products`: rows {name, code, unit,
    production_current, ...} replacing what is there; `edit(wb)` for anything else."""
    wb = load_workbook(BytesIO(content))
    ws = wb[BASIC_SHEET]
    for key, value in (basic or {}).items():
        ws.cell(row=row_of(ws, BASIC_KEY_COLUMN, key), column=2, value=value)
    ws = wb[INDICATOR_SHEET]
    for code, columns in (indicators or {}).items():
        row = row_of(ws, INDICATOR_KEY_COLUMN, code)
        for column, value in columns.items():
            ws.cell(row=row, column=INDICATOR_COLUMNS[column], value=value)
    if products is not None:
        ws = wb[PRODUCT_SHEET]
        for offset in range(50):
            for index in [*PRODUCT_TEXT_COLUMNS.values(), *PRODUCT_NUMBER_COLUMNS.values()]:
                ws.cell(row=FIRST_ROW + offset, column=index, value=None)
        for offset, line in enumerate(products):
            for key, value in line.items():
                index = PRODUCT_TEXT_COLUMNS.get(key) or PRODUCT_NUMBER_COLUMNS[key]
                ws.cell(row=FIRST_ROW + offset, column=index, value=value)
    if edit is not None:
        edit(wb)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def cell_of(content: bytes, sheet: str, key: str, column: str) -> str:
    """The address of an indicator's column (or a basic field's input cell)."""
    from openpyxl.utils import get_column_letter

    wb = load_workbook(BytesIO(content))
    ws = wb[sheet]
    if sheet == INDICATOR_SHEET:
        row = row_of(ws, INDICATOR_KEY_COLUMN, key)
        return f"{get_column_letter(INDICATOR_COLUMNS[column])}{row}"
    return f"B{row_of(ws, BASIC_KEY_COLUMN, key)}"
