"""The one XLSX writer: every spreadsheet the portal answers is written here.

- Text that a spreadsheet would run as a formula (starting with ``= + - @``, a tab or a CR, OWASP's
  CSV-injection list) is stored as a text cell with its value unchanged, shown with a quote prefix.
- Times are converted to the portal's time zone (stored values are UTC); a Decimal stays exact (a number with its
  decimal places shown, or its exact text when a double cannot hold it).
- Characters XML cannot hold are dropped instead of failing the export.
- The header row is bold and frozen, columns are as wide as their content (within limits).
"""
from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from .timeutil import to_local

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MIN_WIDTH, MAX_WIDTH = 6, 60
_INVALID_TITLE = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _text(value) -> str:
    from .uploads import plain

    return str.__str__(plain(value))


def cell_value(value):
    """The value as an XLSX cell holds it: local naive datetimes, exact Decimals, plain text."""
    if isinstance(value, Decimal):
        # a spreadsheet number is a double: keep the number when it is exact, else the exact text
        if value.is_finite() and Decimal(repr(float(value))) == value:
            return value
        return str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, datetime):
        return to_local(value).replace(tzinfo=None)
    if isinstance(value, (date, time)):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", _text(value))


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def _display_width(value) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = str(value).split("\n", 1)[0]
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def set_cell(ws, row: int, column: int, value):
    """Write one value: formula-like text is stored as text, never as a formula."""
    value = cell_value(value)
    cell = ws.cell(row=row, column=column)
    cell.value = value
    if is_formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    elif isinstance(value, Decimal):
        places = -value.as_tuple().exponent
        if places > 0:
            cell.number_format = "0." + "0" * min(places, 15)
    elif isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def write_sheet(ws, header: Sequence, rows: Iterable[Sequence]) -> None:
    """A bold, frozen header row, then the rows; columns sized to their content."""
    widths: dict[int, int] = {}
    bold = Font(bold=True)
    for col, title in enumerate(header, start=1):
        cell = set_cell(ws, 1, col, title)
        cell.font = bold
        widths[col] = _display_width(cell.value)

    for row_number, row in enumerate(rows, start=2):
        for col, value in enumerate(row, start=1):
            cell = set_cell(ws, row_number, col, value)
            widths[col] = max(widths.get(col, 0), _display_width(cell.value))
    if header:
        ws.freeze_panes = "A2"
    for col, width in widths.items():
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))


def sheet_title(title, taken: set[str]) -> str:
    """A valid, unique sheet title (31 characters, none of ``[]:*?/\\``)."""
    base = (_text(title).translate(_INVALID_TITLE).strip("'") or "Sheet")[:31]
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def workbook_bytes(sheets) -> bytes:
    """An .xlsx file of ``sheets``: ``[(title, header, rows), ...]`` or ``{title: (header, rows)}``."""
    if isinstance(sheets, Mapping):
        sheets = [(title, header, rows) for title, (header, rows) in sheets.items()]
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for title, header, rows in sheets:
        write_sheet(wb.create_sheet(sheet_title(title, taken)), header, rows)
    if not wb.worksheets:
        wb.create_sheet("Sheet")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def workbook_response(filename: str, sheets):
    """Answer the workbook as a download (through ``web.send_download``)."""
    from .web import send_download

    return send_download(workbook_bytes(sheets), filename, XLSX_MIMETYPE)
