"""Comparator columns in a metric import: each a named series, filled for the row's period, imported twice safely."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from evidence import imports
from evidence.db import db
from evidence.imports import UNCHANGED, UPDATE, comparators
from evidence.imports.metric_points import MetricImporter
from evidence.models import AuditEvent, ComparatorPoint, ComparatorSeries, EvidenceItem, MetricPoint
from evidence.vocab import Kind, Role
from tests.factories import make_item

METRIC = imports.get_importer("metric")
TITLE = "Adult social care outcomes: quarterly performance pack (BI team)"
HEADER = [
    "Metric",
    "Period",
    "Value",
    "Unit",
    "England average",
    "Region",
    "Median",
    "Nearest neighbours",
    "Comparator: Shire counties",
]
ROWS = [
    ["Older people at home 91 days after reablement", "2024 Q2", 0.715, "%", 0.68, 0.702, 0.69, None, 0.71],
    ["Older people at home 91 days after reablement", "2024 Q3", 0.724, "%", 0.684, 0.705, 0.693, 0.70, None],
    ["Older people at home 91 days after reablement", "2024 Q4", 0.731, "%", 0.687, None, 0.70, 0.704, 0.712],
]


@pytest.fixture
def curator(make_user):
    return make_user(Role.QUALITY_LEAD)


def council_workbook(rows: list[list] = ROWS, header: list[str] = HEADER, percent: bool = True) -> bytes:
    """As a council's BI team keeps it: a title above the header, fractions as percent-formatted cells."""
    book = Workbook()
    sheet = book.active
    sheet.title = "ASCOF 2B"
    sheet.append([TITLE])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if percent and isinstance(cell.value, float):
                cell.number_format = "0.0%"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def series() -> dict[str, list[tuple[str, float]]]:
    db.session.expire_all()
    found: dict[str, list[tuple[str, float]]] = {}
    for s in db.session.scalars(select(ComparatorSeries).order_by(ComparatorSeries.id)):
        found[s.name] = [(p.label, round(p.value, 6)) for p in s.points]
    return found


def stored_rows() -> tuple[int, int, int, int]:
    return tuple(
        db.session.scalar(select(func.count(model.id)))
        for model in (EvidenceItem, MetricPoint, ComparatorSeries, ComparatorPoint)
    )


def test_each_comparator_column_fills_its_series_and_the_same_file_again_changes_nothing(app, curator):
    data = council_workbook()
    plan = imports.plan_file(METRIC, "ascof.xlsx", data)
    assert plan.errors == []
    assert "Comparators" in METRIC.preview_headings
    first = plan.rows[0]  # the preview lists each comparator of the row beside its value
    assert first.cells[3:] == ["71.5%", "England average 68%; Regional average 70.2%; Median 69%; Shire counties 71%"]
    assert "add England average 2024 Q2: 68%" in first.changes
    assert "comparator values: 12 to add, 0 to update" in plan.summary

    imports.write_plan(plan, curator)
    expected = {
        "England average": [("2024 Q2", 68.0), ("2024 Q3", 68.4), ("2024 Q4", 68.7)],
        "Regional average": [("2024 Q2", 70.2), ("2024 Q3", 70.5)],
        "Median": [("2024 Q2", 69.0), ("2024 Q3", 69.3), ("2024 Q4", 70.0)],
        "Shire counties": [("2024 Q2", 71.0), ("2024 Q4", 71.2)],
        "Nearest neighbours": [("2024 Q3", 70.0), ("2024 Q4", 70.4)],
    }
    assert series() == expected
    changes = select(func.count(AuditEvent.id)).where(AuditEvent.entity_type == "evidence_item")
    before, events = stored_rows(), db.session.scalar(changes)
    assert before == (1, 3, 5, 12)

    again = imports.plan_file(METRIC, "ascof.xlsx", data)
    assert [r.action for r in again.rows] == [UNCHANGED] * 3 and not again.changing
    imports.write_plan(again, curator)
    assert stored_rows() == before and series() == expected
    assert db.session.scalar(changes) == events  # the import is recorded; no item changed


def test_a_changed_comparator_value_is_an_update_the_preview_names(app, curator):
    imports.import_file(METRIC, "ascof.xlsx", council_workbook(), curator)
    corrected = [list(row) for row in ROWS]
    corrected[1][4] = 0.686  # England average for 2024 Q3, revised
    plan = imports.plan_file(METRIC, "ascof.xlsx", council_workbook(corrected))
    assert [r.action for r in plan.rows] == [UNCHANGED, UPDATE, UNCHANGED]
    assert plan.rows[1].changes == ["England average 2024 Q3: 68.4% → 68.6%"]
    assert (
        "0 points to add, 0 to update, 3 already up to date; comparator values: 0 to add, 1 to update" in plan.summary
    )
    result = imports.write_plan(plan, curator)
    assert "comparator values: 0 added, 1 updated" in result.message
    assert series()["England average"] == [("2024 Q2", 68.0), ("2024 Q3", 68.6), ("2024 Q4", 68.7)]
    assert stored_rows() == (1, 3, 5, 12)
    (item,) = db.session.scalars(select(EvidenceItem))
    history = db.session.scalars(select(AuditEvent.summary).where(AuditEvent.entity_id == item.id)).all()
    assert any("England average 2024 Q3: 68.4 → 68.6" in text for text in history), history


def test_comparators_are_added_to_a_metric_already_held(app, curator):
    held = make_item("Reviews on time", kind=Kind.METRIC, unit="%", direction="higher")
    header = ["Metric", "Period", "Value", "England average", "Comparator", "Comparator value"]
    rows = [[held.reference, "2026-04", 74, 70, "CIPFA neighbours", 72]]
    imports.import_file(METRIC, "reviews.xlsx", council_workbook(rows, header), curator)
    db.session.expire_all()
    item = db.session.get(EvidenceItem, held.id)
    assert [(s.name, [(p.label, p.value) for p in s.points]) for s in item.comparators] == [
        ("England average", [("Apr 2026", 70.0)]),
        ("CIPFA neighbours", [("Apr 2026", 72.0)]),
    ]


def test_a_bad_comparator_cell_is_named_by_row_and_column_and_nothing_is_written(app, curator):
    rows = [list(row) for row in ROWS]
    rows[0][5] = "South East"  # a region's name where its value belongs
    rows[2][4] = 1.4  # 140 % in a percentage metric
    plan = imports.plan_file(METRIC, "ascof.xlsx", council_workbook(rows))
    described = [e.describe() for e in plan.errors]
    assert described == [
        "row 4, column F (Region) “South East”: Not a number",
        "row 6, column E (England average) “140%”: 140 is not a percentage between 0 and 100 (the metric's unit is %)",
    ]
    with pytest.raises(imports.ImportNotReady):
        imports.write_plan(plan, curator)
    assert stored_rows() == (0, 0, 0, 0)


def test_a_comparator_value_needs_its_name_and_one_comparator_cannot_come_from_two_columns(app, curator):
    header = ["Metric", "Period", "Value", "England average", "Comparator", "Comparator value"]
    rows = [["Reviews on time", "2026-04", 74, 70, None, 72], ["Reviews on time", "2026-05", 75, 70, "England", 71]]
    plan = imports.plan_file(METRIC, "x.xlsx", council_workbook(rows, header))
    assert [e.describe() for e in plan.errors] == [
        "row 4, column E (Comparator): Missing value: name the comparator of Comparator value",
    ]
    rows = [["Reviews on time", "2026-05", 75, 70, "england average", 71]]
    plan = imports.plan_file(METRIC, "x.xlsx", council_workbook(rows, header))
    assert [e.describe() for e in plan.errors] == [
        "row 4, column F (Comparator value) “71”: Differs from column England average for the same comparator",
    ]
    with pytest.raises(imports.ImportRefused, match="both give the comparator “England average”"):
        imports.plan_file(
            METRIC,
            "x.xlsx",
            council_workbook([], ["Metric", "Period", "Value", "England", "Comparator: England average"]),
        )


def test_a_layout_maps_any_column_onto_a_named_series(app, curator):
    """A national file's own headings: a mapping says which column holds which comparator."""
    header = ["Metric", "Period", "Value", "Region", "MEDIAN", "Statistical neighbours (CIPFA)"]
    rows = [["Reviews on time", "2026-04", 74, "South East", 71.5, 72.5]]
    mapping = {"median": "Median of councils", "Region": None}
    importer = MetricImporter(comparator_mapping=mapping)
    plan = imports.plan_file(importer, "national.xlsx", council_workbook(rows, header, percent=False))
    assert plan.errors == []
    assert "Columns not used by this import were ignored: Region." in plan.notices
    imports.write_plan(plan, curator)
    assert series() == {"Median of councils": [("Apr 2026", 71.5)], "Nearest neighbours": [("Apr 2026", 72.5)]}
    assert [(c.heading, c.series) for c in comparators.columns(header, mapping)] == [
        ("MEDIAN", "Median of councils"),
        ("Statistical neighbours (CIPFA)", "Nearest neighbours"),
    ]
    with pytest.raises(imports.ImportRefused, match="no column “England value”"):
        comparators.columns(header, {"England value": "England average"})


def test_the_template_shows_the_comparator_columns(app):
    data, _, _ = imports.template(METRIC, "xlsx")
    book = load_workbook(io.BytesIO(data))
    headings = [cell.value for cell in book.worksheets[0][1]]
    assert headings[:10] == [
        "Metric",
        "Period",
        "Value",
        "Unit",
        "Direction",
        "Target",
        "England average",
        "Regional average",
        "Median",
        "Nearest neighbours",
    ]
    notes = " ".join(str(c.value) for row in book["Notes"].iter_rows() for c in row if c.value)
    assert "“Comparator: <its name>”" in notes
    # the template itself, filled in, imports: its example row's comparators land in their series
    imports.import_file(METRIC, "template.xlsx", data, None)
    assert series() == {"England average": [("2026 Q3", 83.8)], "Regional average": [("2026 Q3", 84.6)]}
    assert db.session.scalar(select(MetricPoint.period)) == date(2026, 7, 1)
