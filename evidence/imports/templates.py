"""Downloadable templates: a workbook (headings, notes, one example row) and a CSV file, built from the columns."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select

from evidence.db import db
from evidence.imports import cells
from evidence.imports.base import Column, Importer
from evidence.models import EvidenceCategory, QualityStatement

REQUIRED_FILL = PatternFill("solid", fgColor="DCE6F2")
OPTIONAL_FILL = PatternFill("solid", fgColor="F2F2F2")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
VALIDATION_ROWS = 5001


def template_filename(importer: Importer, fmt: str) -> str:
    return f"assure-import-{importer.label.lower().replace(' ', '-')}-template.{fmt}"


def _requirement(column: Column) -> str:
    return "Required" if column.required else "Optional"


def _statement_names() -> list[str]:
    return list(db.session.scalars(select(QualityStatement.name).order_by(QualityStatement.position)))


def _category_names() -> list[str]:
    return list(db.session.scalars(select(EvidenceCategory.name).order_by(EvidenceCategory.position)))


def template_workbook(importer: Importer) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = importer.label[:31]
    for position, column in enumerate(importer.columns, start=1):
        letter = get_column_letter(position)
        cell = sheet.cell(row=1, column=position, value=column.name)
        cell.font = BOLD
        cell.fill = REQUIRED_FILL if column.required else OPTIONAL_FILL
        cell.alignment = WRAP
        cell.comment = Comment(f"{_requirement(column)}. {column.type_label}. {column.help}", "Assure", 160, 320)
        sheet.column_dimensions[letter].width = column.width
        example = sheet.cell(row=2, column=position, value=column.example if column.example != "" else None)
        example.alignment = WRAP
        if column.number_format:
            example.number_format = column.number_format
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(importer.columns))}2"

    lists = workbook.create_sheet("Lists")
    lists["A1"], lists["B1"] = "Quality statements", "Evidence categories"
    lists["A1"].font = lists["B1"].font = BOLD
    statements, categories = _statement_names(), _category_names()
    for row, name in enumerate(statements, start=2):
        lists.cell(row=row, column=1, value=name)
    for row, name in enumerate(categories, start=2):
        lists.cell(row=row, column=2, value=name)
    lists.column_dimensions["A"].width = 46
    lists.column_dimensions["B"].width = 32
    _add_validations(importer, sheet, len(statements), len(categories))

    _notes_sheet(importer, workbook.create_sheet("Notes", 1))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _add_validations(importer: Importer, sheet, statements: int, categories: int) -> None:
    """Drop-down lists: strict for short choices, suggestions only for statements (several may be given)."""
    for position, column in enumerate(importer.columns, start=1):
        letter = get_column_letter(position)
        target = f"{letter}2:{letter}{VALIDATION_ROWS}"
        if column.options:
            validation = DataValidation(
                type="list", formula1='"' + ",".join(column.options) + '"', allow_blank=True, showErrorMessage=True
            )
            validation.error = f"Choose one of: {', '.join(column.options)}"
        elif column.name == "Quality statement" and statements:
            validation = DataValidation(
                type="list", formula1=f"Lists!$A$2:$A${statements + 1}", allow_blank=True, showErrorMessage=False
            )
        elif column.name == "Evidence category" and categories:
            validation = DataValidation(type="list", formula1=f"Lists!$B$2:$B${categories + 1}", allow_blank=True)
        else:
            continue
        sheet.add_data_validation(validation)
        validation.add(target)


def _notes_sheet(importer: Importer, notes) -> None:
    notes["A1"] = f"{importer.label}: how to fill in the first sheet"
    notes["A1"].font = TITLE_FONT
    lines = [
        importer.intro,
        "Keep the heading row as it is (row 1). Replace the example row with your own rows, one per line. "
        "Blue headings must be filled in; grey ones are optional.",
        importer.matching_rule,
        *importer.notes,
    ]
    if any(c.type_label == "Percentage" for c in importer.columns):
        lines.append(cells.PERCENT_RULE)
    if any(c.type_label == "Date" for c in importer.columns):
        lines.append(f"Dates: {cells.DATE_FORMS}, or a date cell.")
    lines.append(
        "Quality statements and evidence categories are listed on the Lists sheet; keys (e.g. safeguarding) and "
        "the known variant names are understood too."
    )
    row = 3
    for line in lines:
        notes.cell(row=row, column=1, value=line).alignment = WRAP
        notes.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
        notes.row_dimensions[row].height = 15 * max(1, len(line) // 110 + 1)
        row += 1
    row += 1
    for position, heading in enumerate(("Column", "Required", "Type", "What to write", "Example"), start=1):
        notes.cell(row=row, column=position, value=heading).font = BOLD
    for column in importer.columns:
        row += 1
        values = (column.name, _requirement(column), column.type_label, column.help, column.example_text)
        for position, value in enumerate(values, start=1):
            notes.cell(row=row, column=position, value=value).alignment = WRAP
    for letter, width in zip("ABCDE", (22, 11, 16, 70, 40), strict=True):
        notes.column_dimensions[letter].width = width


def template_csv(importer: Importer) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in importer.columns])
    writer.writerow([c.example_text for c in importer.columns])
    # A byte-order mark, so that Excel opens the file as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template(importer: Importer, fmt: str) -> tuple[bytes, str, str]:
    """The template in ``fmt`` ("xlsx" or "csv"): its bytes, file name and content type."""
    if fmt == "xlsx":
        return (
            template_workbook(importer),
            template_filename(importer, "xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    if fmt == "csv":
        return template_csv(importer), template_filename(importer, "csv"), "text/csv; charset=utf-8"
    raise ValueError(f"unknown template format {fmt!r}")
