"""A council's own performance workbook, as its BI team keeps it, read as Excel means it.

Title rows and a merged title above the table, percent-formatted cells, periods in every spelling, a date cell,
a totals row, formulas with and without saved values, a hidden sheet and a hidden row.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from evidence import imports
from evidence.db import db
from evidence.imports import cells
from evidence.models import EvidenceItem, MetricPoint

METRIC = imports.get_importer("metric")
REVIEWS, CARERS = "Reviews completed on time", "Carers' assessments completed"
CONFIDENT, ENQUIRIES = "Staff confident about transitions", "Safeguarding enquiries closed"


def council_workbook(mistakes: bool = True) -> bytes:
    """The workbook as openpyxl writes it: formulas without saved values (Excel or LibreOffice would save them)."""
    workbook = Workbook()
    lookups = workbook.active
    lookups.title = "Lookups"  # the first sheet, and hidden: it is not the table
    lookups.append(["Metric", "Owner"])
    lookups.append([REVIEWS, "Head of assessment"])
    lookups.sheet_state = "hidden"
    sheet = workbook.create_sheet("Scorecard")
    sheet["A1"] = "Adult social care performance scorecard 2024/25"
    sheet.merge_cells("A1:E1")
    sheet["A2"] = "Prepared by the BI team. Figures for Q4 are provisional."
    sheet.append([])
    sheet.append(["Metric", "Period", "Value", "Unit", "Target"])  # row 4
    rows = [
        [REVIEWS, "Q1 2024/25", 0.87, "%", 0.95],  # 5: 87%, target 95%
        [REVIEWS, "2024/25 Q2", 0.9, "%", "95%"],  # 6: the same target written as text
        [REVIEWS, "Q3 2024-25", "=C6-0.01", "%", None],  # 7: a formula
        [REVIEWS, "FY24/25 Q4", "91%", "%", None],  # 8
        [CARERS, "Apr-24", 120, "people", None],  # 9
        [CARERS, datetime(2024, 5, 1), 130, "people", None],  # 10: a date cell
        [CARERS, "Jun 2024", 999, "people", None],  # 11: hidden
        [CARERS, "2024-07", 140, "people", None],  # 12
        ["Total", None, "=SUM(C9:C12)", None, None],  # 13: a totals row
    ]
    if mistakes:
        rows += [
            [CONFIDENT, "2024/25", 1.39, "%", None],  # 14: 139%
            [ENQUIRIES, "2024/25", -3, "enquiries", None],  # 15: a negative count
        ]
    for row in rows:
        sheet.append(row)
    for cell in ("C5", "E5", "C6", "C7", "C14"):
        sheet[cell].number_format = "0%"
    sheet.row_dimensions[11].hidden = True
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def saved_by_libreoffice(data: bytes, folder) -> bytes:
    """The workbook opened and saved again by LibreOffice, which computes each formula and saves its value."""
    source = folder / "scorecard.xlsx"
    source.write_bytes(data)
    out = folder / "out"
    subprocess.run(
        [
            shutil.which("soffice"),
            f"-env:UserInstallation=file://{folder}/profile",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(folder)},
    )
    return (out / "scorecard.xlsx").read_bytes()


@pytest.fixture
def curator(make_user):
    return make_user("quality_lead")


def problems(plan) -> list[tuple[int, str, str, str]]:
    return [(e.row, e.letter, e.value, e.reason) for e in plan.errors]


def test_the_workbook_as_a_program_wrote_it_names_each_problem_by_row(app):
    plan = imports.plan_file(METRIC, "scorecard.xlsx", council_workbook())
    assert problems(plan) == [
        (7, "C", "=C6-0.01", cells.NO_SAVED_VALUE),
        (14, "C", "139%", "139 is not a percentage between 0 and 100 (the metric's unit is %)"),
        (15, "C", "-3", "-3 is below 0, which a metric in “enquiries” cannot be"),
    ]
    notices = " ".join(plan.notices)
    assert "The hidden sheet “Lookups” was not read" in notices
    assert "Row 11 is hidden in the workbook and was not read" in notices
    assert "row 13 (“Total”, =SUM(C9:C12))" in notices and "not imported" in notices
    with pytest.raises(imports.ImportNotReady):
        imports.import_file(METRIC, "scorecard.xlsx", council_workbook(), None)
    assert db.session.scalar(select(func.count()).select_from(MetricPoint)) == 0


@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice to save the formulas' values")
def test_the_corrected_workbook_saved_by_an_office_program_imports_as_excel_shows_it(app, curator, tmp_path):
    data = saved_by_libreoffice(council_workbook(mistakes=False), tmp_path)
    plan = imports.plan_file(METRIC, "scorecard.xlsx", data)
    assert problems(plan) == []
    shown = [(r.row, r.cells[2], r.cells[3]) for r in plan.rows]
    assert shown == [
        (5, "Q1 2024/25", "87%"),
        (6, "Q2 2024/25", "90%"),
        (7, "Q3 2024/25", "89%"),  # the formula's saved value, formatted as a percentage
        (8, "Q4 2024/25", "91%"),
        (9, "Apr 2024", "120 people"),
        (10, "May 2024", "130 people"),
        (12, "Jul 2024", "140 people"),
    ]
    assert "target 95" in plan.rows[0].changes[-1]  # 0.95 formatted as 95% and "95%" are one target

    imports.import_file(METRIC, "scorecard.xlsx", data, curator)
    reviews = db.session.scalar(select(EvidenceItem).filter_by(title=REVIEWS))
    assert [(p.label, p.value) for p in reviews.points] == [
        ("Q1 2024/25", 87),
        ("Q2 2024/25", 90),
        ("Q3 2024/25", 89),
        ("Q4 2024/25", 91),
    ]
    assert (reviews.unit, reviews.target, reviews.period_start.isoformat(), reviews.period_end.isoformat()) == (
        "%",
        95,
        "2024-04-01",
        "2025-03-31",
    )
    carers = db.session.scalar(select(EvidenceItem).filter_by(title=CARERS))
    assert [p.label for p in carers.points] == ["Apr 2024", "May 2024", "Jul 2024"]  # not the hidden June

    again = imports.plan_file(METRIC, "scorecard.xlsx", data)
    assert again.counts == {"create": 0, "update": 0, "unchanged": 7}
