"""The action tracker's list as a file: an Excel workbook or CSV, one row per improvement action.

Text that a spreadsheet would take for a formula (``exports.text.looks_like_formula``) stays text:
in the workbook it is written as a string with Excel's quote-prefix flag; in the CSV, which has no
types, it is preceded by an apostrophe, as spreadsheets themselves do (OWASP's advice for CSV).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from evidence.assessment.actions import TrackedAction
from exports.text import looks_like_formula, sheet_text

COLUMNS = (
    ("Quality statement", 34),
    ("Round", 26),
    ("What will be done", 60),
    ("Owner", 24),
    ("Due date", 12),
    ("Status", 14),
    ("Overdue", 10),
)
DATE_FORMAT = "d mmm yyyy"
HEADER_FILL = "1F3A5F"  # the portal's brand colour (--brand)


def _values(action: TrackedAction) -> list[object]:
    return [
        action.statement_name,
        action.round_name or "No round",
        action.description,
        action.owner,
        action.due_date,
        action.status_label,
        "Yes" if action.overdue else "No",
    ]


def workbook(actions: Sequence[TrackedAction], generated_at: datetime, heading: str) -> bytes:
    """The actions as an .xlsx workbook (bytes), with ``heading`` (what was filtered) above the table."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Actions"
    sheet.append([sheet_text(f"{heading} · exported {generated_at:%-d %b %Y %H:%M}")])
    sheet["A1"].font = Font(bold=True)
    sheet.append([name for name, _ in COLUMNS])
    header_fill = PatternFill("solid", fgColor=HEADER_FILL)
    for number, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
        cell = sheet.cell(row=2, column=number)
        cell.font, cell.fill = Font(bold=True, color="FFFFFF"), header_fill
    for row, action in enumerate(actions, start=3):
        for column, value in enumerate(_values(action), start=1):
            cell = sheet.cell(row=row, column=column)
            if isinstance(value, date):
                cell.value, cell.number_format = value, DATE_FORMAT
            elif value is not None:
                text = sheet_text(value)
                cell.value = text
                cell.data_type = "s"  # openpyxl reads a leading "=" as a formula; this is text
                if looks_like_formula(text):
                    cell.quotePrefix = True
    sheet.freeze_panes = "A3"
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(COLUMNS))}{max(2, len(actions) + 2)}"
    book.properties.creator = book.properties.lastModifiedBy = "Assure"
    book.properties.created = book.properties.modified = generated_at
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()  # unambiguous for the spreadsheet that reads it back
    text = sheet_text(value)
    return "'" + text if looks_like_formula(text) else text


def csv_file(actions: Sequence[TrackedAction]) -> bytes:
    """The actions as CSV in UTF-8 with a byte-order mark, so Excel reads the accents and quotes right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _ in COLUMNS])
    for action in actions:
        writer.writerow([_csv_cell(value) for value in _values(action)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
