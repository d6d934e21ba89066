"""The workbook on paper: row heights, page set-up, headers and footers, UK dates, category scores,
and the demo round printed to PDF by LibreOffice with no text overlapping and none shrunk to nothing."""

from __future__ import annotations

import subprocess
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select

from evidence.assessment.round_view import live_view, round_view
from evidence.db import db
from evidence.demo import load_demo
from evidence.models import Assessment, Round
from exports.workbook import (
    A4_LANDSCAPE_POINTS,
    MARGIN_INCHES,
    READABLE_SCALE,
    SHEET_NAMES,
    build_workbook,
    column_points,
    row_lines,
)
from tests.exports.test_workbook import GENERATED, build_round, open_workbook, rows, sign_off
from tests.tools import missing, soffice

PRINTABLE_POINTS = A4_LANDSCAPE_POINTS - 2 * 72 * MARGIN_INCHES
DEFAULT_ROW_POINTS = 15


@pytest.fixture
def built(app):
    built = build_round()
    safe = next(a for a in built["round"].assessments if a.statement.key == "safe-pathways")
    safe.category_scores = {"peoples-experience": 2, "staff-leaders": 2, "partners": 3, "processes": 3}
    safe.override_reason = "=Partners' evidence outweighs the staff survey"  # looks like a formula
    safe.key_findings = "\n\n".join([safe.key_findings, "Discharge to assess " * 400])
    db.session.commit()
    return built


@pytest.fixture
def workbook(built):
    return open_workbook(build_workbook(live_view(built["round"]), GENERATED))


def widths(ws) -> list[float]:
    return [ws.column_dimensions[letter].width for letter in _letters(ws)]


def _letters(ws) -> list[str]:
    return [cell.column_letter for cell in next(ws.iter_rows(min_row=1, max_row=1))]


def test_every_sheet_has_print_titles_a_header_and_a_footer(workbook, built):
    authority = live_view(built["round"]).authority or "The local authority"
    for name in SHEET_NAMES:
        ws = workbook[name]
        assert ws.print_title_rows == "$1:$1", name
        assert ws.oddHeader.left.text == authority, name
        assert ws.oddHeader.right.text == "Winter 2026 self-assessment", name
        assert ws.oddFooter.left.text == "&A", name  # the sheet's name
        assert ws.oddFooter.right.text == "Page &P of &N", name
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4) and ws.page_setup.orientation == "landscape", name


def test_an_ampersand_in_the_council_or_round_name_prints_as_itself(app):
    from evidence.settings import AUTHORITY_NAME, set_setting
    from tests.factories import make_round

    set_setting(AUTHORITY_NAME, "Bath & North East Somerset Council")
    db.session.commit()
    wb = open_workbook(build_workbook(live_view(make_round("Q&A round &P")), GENERATED))
    header = wb["Summary"].oddHeader
    assert header.left.text == "Bath && North East Somerset Council"  # && prints one &; &P would be a page number
    assert header.right.text == "Q&&A round &&P"
    long = open_workbook(build_workbook(live_view(make_round("&" * 150)), GENERATED))["Summary"].oddHeader.right.text
    assert len(long) <= 100 and long.endswith("&&…")  # never half of a doubled &


def test_sheets_fit_the_page_width_only_at_a_readable_scale(workbook):
    for name in SHEET_NAMES:
        ws = workbook[name]
        total = sum(column_points(w) for w in widths(ws))
        if ws.sheet_properties.pageSetUpPr.fitToPage:
            assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, name
            assert PRINTABLE_POINTS / total >= READABLE_SCALE, name
        else:  # printed at full size over pages left to right, the first columns on every page
            assert PRINTABLE_POINTS / total < READABLE_SCALE, name
            assert ws.page_setup.pageOrder == "overThenDown", name
            titles = ws.print_title_cols
            assert titles.startswith("$A:$"), name
            title_points = sum(column_points(ws.column_dimensions[c].width) for c in _letters(ws)[: _title_count(ws)])
            starts = [0, *[brk.id for brk in ws.col_breaks.brk], len(widths(ws))]
            starts[0] = _title_count(ws)
            for first, after in pairwise(starts):  # every page's columns fit on it
                page = sum(column_points(w) for w in widths(ws)[first:after])
                assert title_points + page <= PRINTABLE_POINTS, (name, first, after)
    statements = workbook["Quality statements"]
    assert not statements.sheet_properties.pageSetUpPr.fitToPage  # 20 columns: never microscopic
    assert statements.print_title_cols == "$A:$B"  # theme and statement on every page


def _title_count(ws) -> int:
    last = ws.print_title_cols.split(":")[1].lstrip("$")
    return _letters(ws).index(last) + 1


def test_rows_with_wrapped_text_are_as_tall_as_their_lines(workbook):
    checked = 0
    for name in SHEET_NAMES:
        ws = workbook[name]
        column_widths = widths(ws)
        for row in ws.iter_rows():
            needed = 1
            for cell, width in zip(row, column_widths, strict=False):
                if isinstance(cell.value, str) and cell.alignment.wrap_text:
                    # a generous reading of how many lines the text takes: 1.3 characters per width unit
                    needed = max(needed, sum(-(-len(part) // int(width * 1.3)) or 1 for part in cell.value.split("\n")))
            height = ws.row_dimensions[row[0].row].height
            if needed > 1:
                checked += 1
                assert height is not None and height >= min(409, needed * DEFAULT_ROW_POINTS), (name, row[0].row)
            assert height is None or height <= 409, (name, row[0].row)  # Excel's tallest row
    assert checked > 20


def test_a_very_long_text_is_capped_at_the_tallest_row_excel_allows(workbook):
    ws = workbook["Quality statements"]
    safe_row = next(r[0].row for r in ws.iter_rows(min_row=2) if r[1].value == "Safe pathways, systems and transitions")
    assert ws.row_dimensions[safe_row].height == 409


def test_row_lines_counts_paragraphs_and_wraps_long_ones():
    assert row_lines("short", 20) == 1
    assert row_lines("one\ntwo\n\nfour", 20) == 4
    assert row_lines("x" * 200, 20) > 200 // 22
    assert row_lines("x" * 200, 20, bold=True) >= row_lines("x" * 200, 20)


def test_dates_print_as_uk_dates(workbook, built):
    register = workbook["Evidence register"]
    header = [c.value for c in register[1]]
    metric_row = next(r for r in register.iter_rows(min_row=2) if r[0].value == built["metric"].reference)
    for column in ("Period start", "Period end", "Review by"):
        cell = metric_row[header.index(column)]
        if cell.value is not None:
            assert cell.number_format == "d mmm yyyy", column
    survey_row = next(r for r in register.iter_rows(min_row=2) if r[0].value == built["survey"].reference)
    assert survey_row[header.index("Period start")].value.date() == date(2026, 4, 1)
    assert survey_row[header.index("Period start")].number_format == "d mmm yyyy"  # prints 1 Apr 2026
    actions = workbook["Actions"]
    due = actions.cell(row=2, column=4)
    assert isinstance(due.value, datetime) and due.number_format == "d mmm yyyy"
    summary_date = next(r[1] for r in workbook["Summary"].iter_rows() if r[0].value == "Date")
    assert summary_date.value.date() == date(2027, 1, 5) and summary_date.number_format == "d mmm yyyy"
    everywhere = {c.number_format for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.is_date}
    assert everywhere == {"d mmm yyyy"}


def test_the_quality_statements_sheet_has_category_scores_and_the_override_reason(workbook):
    ws = workbook["Quality statements"]
    header, *body = rows(ws)
    safe = dict(zip(header, next(r for r in body if r[1] == "Safe pathways, systems and transitions"), strict=True))
    assert safe["People's experience (score)"] == 2
    assert safe["Feedback from staff and leaders (score)"] == 2
    assert safe["Feedback from partners (score)"] == 3
    assert safe["Processes (score)"] == 3
    assert safe["Suggested from categories"] == 3
    reason = "=Partners' evidence outweighs the staff survey"
    assert safe["Why the score departs from the suggestion"] == reason
    safe_row = 2 + next(i for i, r in enumerate(body) if r[1].startswith("Safe"))
    reason_cell = ws.cell(row=safe_row, column=header.index("Why the score departs from the suggestion") + 1)
    assert reason_cell.data_type == "s" and reason_cell.quotePrefix  # text, never a formula
    score_cell = ws.cell(row=safe_row, column=header.index("People's experience (score)") + 1)
    assert score_cell.fill.fgColor.rgb.endswith("FFFAEB")  # a score of 2 wears its colours
    equity = dict(zip(header, next(r for r in body if r[1] == "Equity in experience and outcomes"), strict=True))
    assert equity["People's experience (score)"] is None and equity["Suggested from categories"] is None
    assert equity["Why the score departs from the suggestion"] is None


def test_a_signed_off_round_keeps_its_category_scores(built):
    round_ = sign_off(built["round"])
    first = build_workbook(round_view(round_), GENERATED)
    assert first == build_workbook(round_view(round_), datetime(2027, 6, 1))
    header, *body = rows(open_workbook(first)["Quality statements"])
    safe = dict(zip(header, next(r for r in body if r[1].startswith("Safe")), strict=True))
    assert safe["Processes (score)"] == 3 and safe["Suggested from categories"] == 3


# --- printed by LibreOffice -----------------------------------------------------------


def print_to_pdf(xlsx: bytes, folder: Path) -> Path:
    """The workbook as LibreOffice prints it, with a profile of its own (runs never share one)."""
    office = soffice()
    source = folder / "round.xlsx"
    source.write_bytes(xlsx)
    done = subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{folder / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    pdf = folder / "round.pdf"
    if not pdf.exists() and "no export filter" in (done.stdout + done.stderr).lower():
        missing("LibreOffice is installed without Calc")
    assert pdf.exists(), done.stdout + done.stderr
    return pdf


def _text_lines(node):
    from pdfminer.layout import LTTextLine

    if isinstance(node, LTTextLine):
        if node.get_text().strip():
            yield node
    elif hasattr(node, "__iter__"):
        for child in node:
            yield from _text_lines(child)


def _chars(node):
    from pdfminer.layout import LTChar

    if isinstance(node, LTChar):
        if node.get_text().strip():
            yield node
    elif hasattr(node, "__iter__"):
        for child in node:
            yield from _chars(child)


def overlapping_lines(page) -> list[tuple[str, str]]:
    """Pairs of text lines on the page whose boxes overlap by more than a point each way."""
    boxes = [(line.x0, line.y0, line.x1, line.y1, line.get_text().strip()) for line in _text_lines(page)]
    found = []
    for index, a in enumerate(boxes):
        for b in boxes[index + 1 :]:
            across = min(a[2], b[2]) - max(a[0], b[0])
            down = min(a[3], b[3]) - max(a[1], b[1])
            if across > 1 and down > 1:
                found.append((a[4], b[4]))
    return found


@pytest.mark.slow
def test_the_demo_rounds_workbook_prints_with_no_overlapping_text(app, tmp_path):
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams

    load_demo()
    demo = db.session.scalar(select(Round).order_by(Round.id))
    assert db.session.scalar(select(Assessment).where(Assessment.round_id == demo.id)) is not None
    pdf = print_to_pdf(build_workbook(round_view(demo), GENERATED), tmp_path)

    pages = list(extract_pages(pdf, laparams=LAParams(char_margin=0.5, line_margin=0.1)))
    assert 9 < len(pages) < 120
    sheets_printed, overlaps = [], []
    for number, page in enumerate(pages, start=1):
        lines = list(_text_lines(page))
        text = " ".join(line.get_text() for line in lines)
        footer = {line.get_text().strip() for line in lines if line.y1 < 50}  # the bottom margin
        sheets_printed.append(next(name for name in SHEET_NAMES if name in footer))
        sheet = sheets_printed[-1]
        overlaps += [(number, a[:40], b[:40]) for a, b in overlapping_lines(page)]
        sizes = sorted(char.size for char in _chars(page))
        body = sizes[len(sizes) // 2]  # the median character: the sheet's own text, not its header
        assert body >= 11 * READABLE_SCALE - 0.2, (number, sheet, body)
        assert "Page " in text and f" of {len(pages)}" in text, number
        assert "Northbrook County Council" in text and demo.name in text, number
    assert overlaps == []
    assert set(sheets_printed) == set(SHEET_NAMES)
    everything = " ".join(line.get_text() for page in pages for line in _text_lines(page))
    assert "Safe pathways, systems" in everything and "Why the score departs from" in everything
