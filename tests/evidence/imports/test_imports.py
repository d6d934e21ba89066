"""Spreadsheet imports: reading safely, validating every row, writing all or nothing, importing twice safely."""

from __future__ import annotations

import csv
import io
import os
import re
import time
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from evidence import imports
from evidence.bounds import add_months
from evidence.db import db
from evidence.imports import cells
from evidence.imports.reading import Limits
from evidence.models import AuditEvent, EvidenceItem, Mapping, MetricPoint, today
from evidence.vocab import Kind, Status
from tests import office_samples
from tests.factories import make_item

SURVEY = imports.get_importer("survey")
METRIC = imports.get_importer("metric")
QUOTE = imports.get_importer("quote")

SURVEY_HEADER = [
    "Survey name",
    "Question",
    "Title",
    "Result",
    "Respondents",
    "Population",
    "Period start",
    "Period end",
    "Source",
    "Summary",
    "Quality statement",
    "Evidence category",
    "Stance",
]
METRIC_HEADER = ["Metric", "Period", "Value", "Unit", "Direction", "Target", "Comparator", "Comparator value"]
QUOTE_HEADER = [
    "Quote",
    "Speaker role",
    "Voice",
    "Tone",
    "Source",
    "Period",
    "Quality statement",
    "Evidence category",
    "Stance",
]


# --- Building files in memory ---


def xlsx(rows: list[list], percent_cells: set[tuple[int, int]] = frozenset()) -> bytes:
    """A workbook whose first sheet holds ``rows``; (row, column) pairs (1-based) are formatted as percentages."""
    workbook = Workbook()
    sheet = workbook.active
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if value is not None:
                cell = sheet.cell(row=r, column=c, value=value)
                if (r, c) in percent_cells:
                    cell.number_format = "0%"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_file(rows: list[list], bom: bool = True) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["" if v is None else v for v in row] for row in rows])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def build(fmt: str, rows: list[list]) -> tuple[str, bytes]:
    return (f"upload.{fmt}", xlsx(rows) if fmt == "xlsx" else csv_file(rows))


def survey_row(**changes) -> list:
    row = {
        "Survey name": "Adult Social Care Survey 2025-26",
        "Question": "Do services help you have control over your daily life?",
        "Title": "Most people feel in control",
        "Result": "61%",
        "Respondents": "412",
        "Population": "People receiving long-term support",
        "Period start": "05/01/2026",
        "Period end": "31/03/2026",
        "Source": "ASCS local return",
        "Summary": "Up from 57% last year.",
        "Quality statement": "Assessing needs",
        "Evidence category": "People's experience",
        "Stance": "strength",
    }
    row.update(changes)
    return [row[name] for name in SURVEY_HEADER]


def quote_row(**changes) -> list:
    row = {
        "Quote": "Once I had one named worker, I stopped having to repeat my story.",
        "Speaker role": "Carer",
        "Voice": "carer",
        "Tone": "facilitator",
        "Source": "Carers' forum",
        "Period": "2026-03",
        "Quality statement": "care-provision",
        "Evidence category": "peoples-experience",
        "Stance": "Strength",
    }
    row.update(changes)
    return [row[name] for name in QUOTE_HEADER]


def counts() -> tuple[int, int, int, int]:
    return (
        db.session.scalar(select(func.count(EvidenceItem.id))),
        db.session.scalar(select(func.count(MetricPoint.id))),
        db.session.scalar(select(func.count(Mapping.id))),
        db.session.scalar(select(func.count(AuditEvent.id))),
    )


def errors_of(plan) -> set[tuple[int, str, str]]:
    return {(e.row, e.column, e.reason) for e in plan.errors}


def has_error(plan, row: int, column: str, reason: str) -> bool:
    return any(e.row == row and e.column == column and reason.lower() in e.reason.lower() for e in plan.errors)


@pytest.fixture
def curator(make_user):
    return make_user("quality_lead")


# --- Good files ---


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_good_survey_file_creates_accepted_findings_with_mappings(app, curator, fmt):
    rows = [
        SURVEY_HEADER,
        survey_row(),
        survey_row(
            Question="Do you feel safe?",
            Title="",
            Result="0.72",
            **{"Quality statement": "Safeguarding; Safe systems, pathways and transitions", "Stance": ""},
        ),
    ]
    filename, data = build(fmt, rows)
    result = imports.import_file(SURVEY, filename, data, curator)

    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    items = db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)).all()
    assert [i.kind for i in items] == [Kind.SURVEY, Kind.SURVEY]
    assert all(i.status == Status.ACCEPTED and i.reviewed_by_id == curator.id for i in items)
    first, second = items
    assert first.result_percent == 61 and first.respondents == 412
    assert (first.period_start, first.period_end) == (date(2026, 1, 5), date(2026, 3, 31))
    assert first.title == "Most people feel in control"
    assert [(m.statement.key, m.category.key, m.stance) for m in first.mappings] == [
        ("assessing-needs", "peoples-experience", "strength")
    ]
    assert second.result_percent == 72
    assert second.title == "Adult Social Care Survey 2025-26: Do you feel safe?"
    assert sorted((m.statement.key, m.stance) for m in second.mappings) == [
        ("safe-pathways", "context"),
        ("safeguarding", "context"),
    ]
    assert first.natural_key.startswith("import:survey:")
    trail = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_id == first.id)).all()
    assert any(e.action == "import" and "row 2" in e.summary for e in trail)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_good_metric_file_adds_points_and_creates_new_metrics(app, curator, fmt):
    existing = make_item("Delayed discharges per 100,000", kind=Kind.METRIC, unit="per 100,000", direction="lower")
    rows = [
        METRIC_HEADER,
        [existing.reference, "2026-07", "12.5"],
        [existing.reference.lower(), "Aug 2026", "11"],
        ["Reablement: at home after 91 days", "2026 Q2", "82.1", "%", "higher", "85", "England average", "83.8"],
        ["reablement: AT HOME after 91 days", "Q3 2026", "84%"],
        ["Reablement: at home after 91 days", "2025/26", "81"],
    ]
    filename, data = build(fmt, rows)
    result = imports.import_file(METRIC, filename, data, curator)

    assert result.created == 5
    points = {(p.label, p.value) for p in existing.points}
    assert points == {("Jul 2026", 12.5), ("Aug 2026", 11.0)}
    new = db.session.scalar(select(EvidenceItem).where(EvidenceItem.title == "Reablement: at home after 91 days"))
    assert new.kind == Kind.METRIC and new.status == Status.ACCEPTED
    assert (new.unit, new.direction, new.target) == ("%", "higher", 85.0)
    # the older Comparator and Comparator value columns give that comparator's value for the row's period
    assert [(s.name, [(p.label, p.value) for p in s.points]) for s in new.comparators] == [
        ("England average", [("2026 Q2", 83.8)])
    ]
    assert [(p.period, p.label, p.value) for p in new.points] == [
        (date(2025, 4, 1), "2025/26", 81.0),
        (date(2026, 4, 1), "2026 Q2", 82.1),
        (date(2026, 7, 1), "2026 Q3", 84.0),
    ]
    assert (new.period_start, new.period_end) == (date(2025, 4, 1), date(2026, 9, 30))


def test_a_date_cell_in_a_metric_file_counts_as_its_month(app, curator):
    metric = make_item("Assessments completed", kind=Kind.METRIC, unit="people")
    data = xlsx([["Metric", "Period", "Value"], [metric.reference, datetime(2026, 9, 17), 340]])
    imports.import_file(METRIC, "metrics.xlsx", data, curator)
    assert [(p.period, p.label, p.value) for p in metric.points] == [(date(2026, 9, 1), "Sep 2026", 340.0)]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_good_quote_file_creates_quotes(app, curator, fmt):
    rows = [
        QUOTE_HEADER,
        quote_row(),
        quote_row(Quote="Nobody told me who to call.", Voice="Person who uses services", Tone="barrier", Period=""),
    ]
    filename, data = build(fmt, rows)
    result = imports.import_file(QUOTE, filename, data, curator)
    assert result.created == 2
    first, second = db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)).all()
    assert (first.kind, first.voice, first.quote_tone, first.speaker_role) == (
        Kind.QUOTE,
        "carer",
        "facilitator",
        "Carer",
    )
    assert (first.period_start, first.period_end) == (date(2026, 3, 1), date(2026, 3, 31))
    assert first.title.startswith("Carer: “Once I had one named worker")
    assert [m.statement.key for m in first.mappings] == ["care-provision"]
    assert (second.voice, second.quote_tone, second.period_start) == ("person", "barrier", None)


def test_imported_evidence_is_due_a_review_as_any_item_of_its_kind(app, curator):
    """Its kind's months after the period it covers (a quote without a period: from today), as a submission."""
    imports.import_file(
        SURVEY,
        "s.csv",
        csv_file([SURVEY_HEADER, survey_row(**{"Period start": "05/01/2025", "Period end": "31/03/2025"})]),
        curator,
    )
    imports.import_file(QUOTE, "q.csv", csv_file([QUOTE_HEADER, quote_row(Period="")]), curator)
    metric = [METRIC_HEADER, ["New metric", "2025 Q1", "3"], ["New metric", "2025-08", "4"]]
    imports.import_file(METRIC, "m.csv", csv_file(metric), curator)
    survey, quote, new_metric = db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)).all()
    assert survey.review_by == date(2026, 3, 31)  # 12 months after the fieldwork ended
    assert quote.review_by == add_months(today(), 18)
    assert new_metric.review_by == date(2026, 2, 28)  # 6 months after the last month it measures


# --- Bad rows, named by row and column ---


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_each_class_of_bad_row_is_named_by_row_and_column(app, curator, fmt):
    rows = [
        SURVEY_HEADER,
        survey_row(),  # row 2 is fine
        survey_row(Question=""),  # row 3: missing value
        survey_row(Respondents="lots"),  # row 4: wrong type
        survey_row(Result="120%"),  # row 5: percentage over 100
        survey_row(**{"Quality statement": "Safegarding"}),  # row 6: unknown statement
        survey_row(**{"Period start": "31/02/2026"}),  # row 7: a date that does not parse
        survey_row(Result="sixty"),  # row 8: wrong type for a percentage
        survey_row(**{"Evidence category": ""}),  # row 9: a statement without its category
    ]
    before = counts()
    filename, data = build(fmt, rows)
    plan = imports.plan_file(SURVEY, filename, data)

    assert has_error(plan, 3, "Question", "Missing value")
    assert has_error(plan, 4, "Respondents", "Not a whole number")
    assert has_error(plan, 5, "Result", "Percentage over 100")
    assert has_error(plan, 6, "Quality statement", "Unknown quality statement")
    assert has_error(plan, 7, "Period start", "Date does not parse")
    assert has_error(plan, 8, "Result", "Not a percentage")
    assert has_error(plan, 9, "Evidence category", "Missing value")
    assert {e.row for e in plan.errors} == {3, 4, 5, 6, 7, 8, 9}
    letters = {e.column: e.letter for e in plan.errors}
    assert letters["Question"] == "B" and letters["Result"] == "D" and letters["Period start"] == "G"
    over = next(e for e in plan.errors if e.row == 5)
    assert over.value == "120%" and "row 5, column D (Result)" in over.describe()
    assert not plan.ok
    with pytest.raises(imports.ImportNotReady, match="7 problems in 7 rows"):
        imports.write_plan(plan, curator)
    assert counts() == before


def test_metric_rows_with_an_unknown_reference_or_a_bad_period_are_named(app, curator):
    survey = make_item("Not a metric", kind=Kind.SURVEY)
    rows = [
        ["Metric", "Period", "Value"],
        ["E-9999", "2026-09", "10"],
        [survey.reference, "2026-09", "10"],
        ["Waiting list", "next spring", "10"],
        ["Waiting list", "2026-10", "ten"],
        ["Waiting list", "2026-11", ""],
        ["Waiting list", "2026-12", "10"],
        ["Waiting list", "Dec 2026", "11"],
    ]
    plan = imports.plan_file(METRIC, "m.csv", csv_file(rows))
    assert has_error(plan, 2, "Metric", "Unknown metric reference")
    assert has_error(plan, 3, "Metric", "is a survey finding, not a metric")
    assert has_error(plan, 4, "Period", "Period does not parse")
    assert has_error(plan, 5, "Value", "Not a number")
    assert has_error(plan, 6, "Value", "Missing value")
    assert has_error(plan, 8, "Period", "Repeats row 7")


def test_a_new_metric_described_two_ways_is_an_error(app):
    rows = [
        ["Metric", "Period", "Value", "Unit"],
        ["Waiting list", "2026-09", "10", "people"],
        ["Waiting list", "2026-10", "9", "%"],
    ]
    plan = imports.plan_file(METRIC, "m.csv", csv_file(rows))
    assert has_error(plan, 3, "Unit", "Differs from row 2")


def test_quote_choices_are_checked(app):
    rows = [QUOTE_HEADER, quote_row(Voice="manager"), quote_row(Quote="Other words", Tone="angry")]
    plan = imports.plan_file(QUOTE, "q.csv", csv_file(rows))
    assert has_error(plan, 2, "Voice", "Unknown voice")
    assert has_error(plan, 3, "Tone", "Unknown tone")


def test_the_same_finding_twice_in_one_file_is_an_error(app):
    rows = [SURVEY_HEADER, survey_row(), survey_row(Result="62%")]
    plan = imports.plan_file(SURVEY, "s.csv", csv_file(rows))
    assert has_error(plan, 3, "Question", "Repeats row 2")


def test_a_header_missing_required_columns_is_refused_naming_them(app):
    data = csv_file([["Survey name", "Title", "Respondents"], ["ASCS", "x", "3"]])
    with pytest.raises(imports.ImportRefused, match=r"missing the columns Question, Result, Period start"):
        imports.plan_file(SURVEY, "s.csv", data)
    with pytest.raises(imports.ImportRefused, match="no rows of data"):
        imports.plan_file(SURVEY, "s.csv", csv_file([SURVEY_HEADER]))


def test_rows_are_numbered_as_the_spreadsheet_shows_them_below_a_title(app):
    rows = [["Survey results, winter 2026"], [], SURVEY_HEADER, survey_row(), [], survey_row(Question="", Title="x")]
    plan = imports.plan_file(SURVEY, "titled.xlsx", xlsx(rows))
    assert [r.row for r in plan.rows] == [4]
    assert [(e.row, e.column, e.letter) for e in plan.errors] == [(6, "Question", "B")]


def test_headings_match_loosely_and_unknown_columns_are_mentioned(app, curator):
    header = ["QUESTION", "survey name *", "Result (%)", "Period Start", "Notes to self"]
    plan = imports.plan_file(SURVEY, "s.csv", csv_file([header, ["Q?", "ASCS", "55", "2026-01", "x"]]))
    assert plan.ok
    assert any("Notes to self" in notice for notice in plan.notices)
    imports.write_plan(plan, curator)
    item = db.session.scalar(select(EvidenceItem))
    assert (item.result_percent, item.period_start, item.period_end) == (55, date(2026, 1, 1), date(2026, 1, 31))


# --- All or nothing ---


def test_a_file_with_one_bad_row_writes_nothing_and_leaves_existing_data_alone(app, curator):
    imports.import_file(SURVEY, "first.csv", csv_file([SURVEY_HEADER, survey_row()]), curator)
    metric = make_item("Waiting list", kind=Kind.METRIC, points=[(date(2026, 8, 1), "Aug 2026", 40.0)])
    before = counts()
    item = db.session.scalar(select(EvidenceItem).where(EvidenceItem.kind == Kind.SURVEY))

    changed = [SURVEY_HEADER, survey_row(Result="70%"), survey_row(Question="New question")]
    changed += [survey_row(Question="Another", Result="101")]
    plan = imports.plan_file(SURVEY, "second.csv", csv_file(changed))
    assert plan.count(imports.UPDATE) == 1 and plan.count(imports.CREATE) == 1 and len(plan.errors) == 1
    with pytest.raises(imports.ImportNotReady):
        imports.write_plan(plan, curator)

    metric_plan = imports.plan_file(
        METRIC,
        "m.csv",
        csv_file([["Metric", "Period", "Value"], [metric.reference, "Aug 2026", "42"], ["x", "?", "1"]]),
    )
    with pytest.raises(imports.ImportNotReady):
        imports.write_plan(metric_plan, curator)

    db.session.expire_all()
    assert counts() == before
    assert db.session.get(EvidenceItem, item.id).result_percent == 61
    assert [p.value for p in db.session.get(EvidenceItem, metric.id).points] == [40.0]


def test_a_failure_while_writing_rolls_everything_back(app, curator, monkeypatch):
    before = counts()
    plan = imports.plan_file(SURVEY, "s.csv", csv_file([SURVEY_HEADER, survey_row(), survey_row(Question="Other")]))

    def broken_record(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("evidence.imports.service.audit.record", broken_record)
    with pytest.raises(RuntimeError):
        imports.write_plan(plan, curator)
    assert counts() == before


def test_an_import_that_collides_with_another_writes_nothing(app, curator):
    data = csv_file([SURVEY_HEADER, survey_row(), survey_row(Question="Other")])
    stale = imports.plan_file(SURVEY, "s.csv", data)
    imports.import_file(SURVEY, "s.csv", csv_file([SURVEY_HEADER, survey_row(Question="Other")]), curator)
    before = counts()
    with pytest.raises(imports.ImportConflict, match="nothing was imported"):
        imports.write_plan(stale, curator)  # planned before the other import created the same finding
    assert counts() == before


# --- Idempotence ---


@pytest.mark.parametrize(
    ("importer", "rows"),
    [
        (SURVEY, [SURVEY_HEADER, survey_row(), survey_row(Question="Do you feel safe?")]),
        (QUOTE, [QUOTE_HEADER, quote_row(), quote_row(Quote="Other words", Period="")]),
        (
            METRIC,
            [
                [*METRIC_HEADER, "Quality statement", "Evidence category"],
                ["Waiting list", "2026-08", "40", "people", "lower", "", "", "", "Assessing needs", "Processes"],
                ["Waiting list", "2026-09", "38", "people", "lower", "", "", "", "Assessing needs", "Processes"],
            ],
        ),
    ],
    ids=["survey", "quote", "metric"],
)
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_importing_the_same_file_twice_changes_nothing(app, curator, importer, rows, fmt):
    filename, data = build(fmt, rows)
    first = imports.import_file(importer, filename, data, curator)
    assert first.created == 2
    after_first = counts()[:3]

    plan = imports.plan_file(importer, filename, data)
    assert plan.ok and plan.counts == {"create": 0, "update": 0, "unchanged": 2}
    assert plan.notices == []
    second = imports.write_plan(plan, curator)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert second.message.startswith("Nothing changed")
    assert counts()[:3] == after_first


def test_a_changed_metric_value_is_shown_and_written_as_an_update(app, curator):
    metric = make_item("Waiting list", kind=Kind.METRIC, unit="people", points=[(date(2026, 8, 1), "Aug 2026", 40.0)])
    data = csv_file(
        [["Metric", "Period", "Value"], [metric.reference, "2026-08", "44"], ["waiting list", "2026-09", "41"]]
    )
    plan = imports.plan_file(METRIC, "m.csv", data)
    assert [r.action for r in plan.rows] == ["update", "create"]
    assert plan.rows[0].changes == ["Aug 2026: 40 people → 44 people"]
    imports.write_plan(plan, curator)
    db.session.expire_all()
    assert [(p.label, p.value) for p in db.session.get(EvidenceItem, metric.id).points] == [
        ("Aug 2026", 44.0),
        ("Sep 2026", 41.0),
    ]
    trail = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_id == metric.id)).all()
    assert any("Aug 2026: 40 → 44" in e.summary and "added Sep 2026 = 41" in e.summary for e in trail)


def test_a_corrected_survey_row_updates_the_same_finding(app, curator):
    imports.import_file(SURVEY, "s.csv", csv_file([SURVEY_HEADER, survey_row()]), curator)
    plan = imports.plan_file(
        SURVEY, "s.csv", csv_file([SURVEY_HEADER, survey_row(Result="63%", Summary="", Stance="context")])
    )
    assert [r.action for r in plan.rows] == ["update"]
    assert "Result: 61 → 63" in plan.rows[0].changes
    imports.write_plan(plan, curator)
    item = db.session.scalar(select(EvidenceItem))
    assert item.result_percent == 63
    assert item.summary == "Up from 57% last year."  # a blank optional cell leaves the value alone
    assert [m.stance for m in item.mappings] == ["context"]
    assert db.session.scalar(select(func.count(EvidenceItem.id))) == 1


def test_a_finding_imported_again_with_another_statement_gains_that_mapping(app, curator):
    imports.import_file(SURVEY, "s.csv", csv_file([SURVEY_HEADER, survey_row()]), curator)
    again = survey_row(**{"Quality statement": "Assessing needs; Safeguarding"})
    result = imports.import_file(SURVEY, "s.csv", csv_file([SURVEY_HEADER, again]), curator)
    assert (result.created, result.updated) == (0, 1)
    db.session.expire_all()  # read back what was written, not what the session holds
    item = db.session.scalar(select(EvidenceItem))
    assert sorted(m.statement.key for m in item.mappings) == ["assessing-needs", "safeguarding"]
    assert db.session.scalar(select(func.count(Mapping.id))) == 2
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "mapping")).all()
    assert sum(e.summary.startswith(f"Mapped {item.reference} to Safeguarding") for e in events) == 1


# --- Percentages ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("61%", 61),
        ("61", 61),
        ("0.61", 61),
        (61, 61),
        (0.61, 61),
        (cells.PercentValue(0.61), 61),
        ("0.5%", 0.5),
        ("1", 1),
        ("1.0", 100),
        (" 61 % ", 61),
        ("100%", 100),
        (0, 0),
    ],
)
def test_percent_forms_are_understood(raw, expected):
    assert cells.percent(raw) == pytest.approx(expected)


@pytest.mark.parametrize("raw", ["101", "120%", 1.5 * 100, cells.PercentValue(61)])
def test_percentages_over_100_are_refused(raw):
    with pytest.raises(cells.CellError, match="Percentage over 100"):
        cells.percent(raw)


def test_percent_forms_in_a_workbook_all_mean_61(app, curator):
    rows = [SURVEY_HEADER]
    forms = ["61%", 61, 0.61, 0.61]  # the last is a fraction cell formatted as a percentage
    for n, form in enumerate(forms):
        rows.append(survey_row(Question=f"Question {n}", Result=form))
    data = xlsx(rows, percent_cells={(5, 4)})
    imports.import_file(SURVEY, "forms.xlsx", data, curator)
    assert db.session.scalars(select(EvidenceItem.result_percent)).all() == [61, 61, 61, 61]


# --- Periods and names ---


@pytest.mark.parametrize(
    ("raw", "start", "end", "label"),
    [
        ("2026-09", date(2026, 9, 1), date(2026, 9, 30), "Sep 2026"),
        ("Sep 2026", date(2026, 9, 1), date(2026, 9, 30), "Sep 2026"),
        ("September 2026", date(2026, 9, 1), date(2026, 9, 30), "Sep 2026"),
        ("2026 Q3", date(2026, 7, 1), date(2026, 9, 30), "2026 Q3"),
        ("q1 2026", date(2026, 1, 1), date(2026, 3, 31), "2026 Q1"),
        ("2025/26", date(2025, 4, 1), date(2026, 3, 31), "2025/26"),
        ("2025-26", date(2025, 4, 1), date(2026, 3, 31), "2025/26"),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "2026"),
        ("30/09/2026", date(2026, 9, 30), date(2026, 9, 30), "30 Sep 2026"),
        (datetime(2026, 9, 30), date(2026, 9, 30), date(2026, 9, 30), "30 Sep 2026"),
    ],
)
def test_periods_are_understood(raw, start, end, label):
    assert cells.period(raw) == cells.Period(start, end, label)


@pytest.mark.parametrize("raw", ["2026-13", "Sept", "31/02/2026", "soon", "2026 Q5"])
def test_periods_that_do_not_parse(raw):
    with pytest.raises(cells.CellError):
        cells.period(raw)


def test_statements_match_by_key_name_and_known_variant(app):
    rows = [
        QUOTE_HEADER,
        quote_row(Quote="a", **{"Quality statement": "Safe systems, pathways and transitions"}),
        quote_row(Quote="b", **{"Quality statement": "SUPPORTING PEOPLE TO LEAD HEALTHIER LIVES"}),
        quote_row(Quote="c", **{"Quality statement": "governance", "Evidence category": "Feedback from partners"}),
    ]
    plan = imports.plan_file(QUOTE, "q.csv", csv_file(rows))
    assert plan.ok, [e.describe() for e in plan.errors]
    assert [r.payload["wanted"][0][0].key for r in plan.rows] == ["safe-pathways", "healthier-lives", "governance"]
    assert plan.rows[2].payload["wanted"][0][1].key == "partners"


# --- Personal data ---


def test_rows_that_look_like_personal_data_need_confirming(app, curator):
    rows = [QUOTE_HEADER, quote_row(Quote="Mrs Patel said call me on jane.doe@example.com")]
    plan = imports.plan_file(QUOTE, "q.csv", csv_file(rows))
    assert plan.ok and len(plan.personal_data_rows) == 1
    assert any("email address" in f for f in plan.rows[0].findings)
    with pytest.raises(imports.ImportNotReady, match="personal data"):
        imports.write_plan(plan, curator)
    assert counts()[0] == 0
    imports.write_plan(plan, curator, confirm_personal_data=True)
    item = db.session.scalar(select(EvidenceItem))
    assert item.personal_data is True
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_id == item.id, AuditEvent.action == "import"))
    assert "personal data confirmed" in event.summary


# --- Files that are not what they claim ---


def test_random_bytes_named_xlsx_are_refused():
    with pytest.raises(imports.ImportRefused, match="not an Excel workbook"):
        imports.check_file("figures.xlsx", os.urandom(4096).replace(b"PK", b"pk"))


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("figures.xlsx", b"Survey name,Question\nA,B\n", "plain text"),
        ("figures.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "Excel 97-2003"),
        ("figures.xlsx", b"PK\x03\x04 not really a zip", "not a readable Excel workbook"),
        ("figures.csv", b"\x00\x01\x02binary\xff\xfe", "not a text file"),
        ("figures.csv", "Question,Result\nCafé,61\n".encode("cp1252"), "not UTF-8"),
        ("figures.xls", b"anything", "save it as an Excel workbook"),
        ("figures.pdf", b"%PDF-1.7", "Only Excel workbooks"),
        ("figures.csv", b"", "empty"),
    ],
)
def test_files_that_are_not_what_they_claim_are_refused(name, data, message):
    with pytest.raises(imports.ImportRefused, match=message):
        imports.check_file(name, data)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_word_document_renamed_xlsx_is_refused():
    data = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    with pytest.raises(imports.ImportRefused, match="Word document"):
        imports.check_file("figures.xlsx", data)


def test_a_zip_bomb_is_refused_before_it_is_opened():
    bomb = _zip({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"\x00" * (8 * 1024 * 1024)})
    assert len(bomb) < 100_000
    with pytest.raises(imports.ImportRefused, match="zip bomb"):
        imports.check_file("bomb.xlsx", bomb)


def test_a_workbook_that_unpacks_beyond_the_limit_is_refused():
    big = _zip({"xl/workbook.xml": b"<workbook/>", "xl/sharedStrings.xml": b"x" * (51 * 1024 * 1024)})
    with pytest.raises(imports.ImportRefused, match=r"unpacks to 51\.0 MB"):
        imports.check_file("big.xlsx", big)


def test_an_oversized_file_is_refused():
    data = csv_file([SURVEY_HEADER, survey_row()])
    with pytest.raises(imports.ImportRefused, match="at most"):
        imports.check_file("big.csv", data, Limits(max_file_bytes=100))


def test_a_sheet_with_a_million_empty_rows_is_read_quickly(app):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(SURVEY_HEADER)
    sheet.append(survey_row(Result=0.61, Respondents=412))
    sheet.cell(row=1_000_000, column=1, value="stray")
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    assert load_workbook(io.BytesIO(data), read_only=True).active.max_row == 1_000_000

    started = time.perf_counter()
    plan = imports.plan_file(SURVEY, "padded.xlsx", data)
    assert time.perf_counter() - started < 3
    assert len(plan.rows) == 1 and plan.ok
    assert any("Reading stopped at row" in notice for notice in plan.notices)


def test_a_sheet_longer_than_can_be_read_is_refused():
    rows = [SURVEY_HEADER] + [survey_row(Question=f"Q{n}") if n % 50 == 0 else [] for n in range(3000)]
    with pytest.raises(imports.ImportRefused, match="runs past row 2,000"):
        imports.read_table(csv_file(rows), "csv", Limits(max_sheet_rows=2000))


def test_more_rows_than_allowed_are_refused(app):
    rows = [SURVEY_HEADER] + [survey_row(Question=f"Q{n}") for n in range(5001)]
    with pytest.raises(imports.ImportRefused, match="more than 5,000 rows"):
        imports.plan_file(SURVEY, "many.csv", csv_file(rows))


def test_a_workbook_with_an_xml_entity_declaration_is_refused():
    data = _zip(
        {
            "xl/workbook.xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><workbook/>',
        }
    )
    with pytest.raises(imports.ImportRefused, match="XML declarations"):
        imports.check_file("entities.xlsx", data)


def test_a_csv_with_semicolons_and_no_bom_is_read(app):
    text = "Survey name;Question;Result;Period start\nASCS;Q?;61%;2026-01\n"
    plan = imports.plan_file(SURVEY, "s.csv", text.encode("utf-8"))
    assert plan.ok and plan.rows[0].cells[2] == "61%"


# --- Templates ---


@pytest.mark.parametrize("kind", ["survey", "metric", "quote"])
def test_templates_have_the_headings_notes_and_an_example_that_imports(app, curator, kind):
    importer = imports.get_importer(kind)
    headings = [c.name for c in importer.columns]
    data, filename, _ = imports.template(importer, "xlsx")
    assert filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(data))
    first = workbook.worksheets[0]
    assert [c.value for c in first[1]] == headings
    assert all(c.comment is not None for c in first[1])
    assert "Notes" in workbook.sheetnames
    notes_text = " ".join(str(c.value) for row in workbook["Notes"].iter_rows() for c in row if c.value)
    assert all(name in notes_text for name in headings)
    assert first.max_row == 2

    csv_data, csv_name, _ = imports.template(importer, "csv")
    assert csv_name.endswith(".csv") and csv_data.startswith(b"\xef\xbb\xbf")
    header, example = list(csv.reader(io.StringIO(csv_data.decode("utf-8-sig"))))
    assert header == headings and any(example)

    for fmt_data, name in ((data, filename), (csv_data, csv_name)):
        plan = imports.plan_file(importer, name, fmt_data)
        assert plan.ok, [e.describe() for e in plan.errors]
    assert imports.import_file(importer, filename, data, curator).created == 1


@pytest.mark.parametrize(
    "case",
    [
        case
        for case, (name, _, says) in office_samples.HOSTILE.items()
        if name.endswith(".xlsx") and says != office_samples.NOT_OF_THAT_KIND
    ],
)
def test_imports_refuse_what_attachments_refuse(case):
    name, content, says = office_samples.HOSTILE[case]
    with pytest.raises(imports.ImportRefused, match=re.escape(says)):
        imports.check_file(name, content())
