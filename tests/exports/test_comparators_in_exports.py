"""Every export states a metric's latest value against each comparator for the same period, read from the files."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from evidence.assessment.round_view import live_view
from evidence.db import db
from evidence.models import Assessment
from evidence.vocab import Kind
from exports.markdown_pack import build_markdown_pack
from exports.pdf import build_pdf
from exports.report import metric_reading
from exports.word import build_docx
from exports.workbook import build_workbook
from tests.exports.documents import all_text, open_docx, open_pdf, pdf_text
from tests.factories import make_item, make_round, statement

GENERATED = datetime(2026, 12, 1, 10, 0)
# What each document says of the metric: its latest value, then the target and each comparator for 2024 Q3.
READING = "72% in 2024 Q3"
AGAINST = ("target 75%", "England average 68.4%", "Regional average 70.5%", "Median 69% in 2024 Q2")


@pytest.fixture
def view(app):
    metric = make_item(
        "Older people at home 91 days after reablement",
        Kind.METRIC,
        mappings=[("safe-pathways", "processes", "strength")],
        unit="%",
        direction="higher",
        target=75,
        points=[(date(2024, 4, 1), "2024 Q2", 71.5), (date(2024, 7, 1), "2024 Q3", 72.0)],
        comparators={
            "England average": [(date(2024, 4, 1), "2024 Q2", 68.0), (date(2024, 7, 1), "2024 Q3", 68.4)],
            "Regional average": [(date(2024, 4, 1), "2024 Q2", 70.2), (date(2024, 7, 1), "2024 Q3", 70.5)],
            "Median": [(date(2024, 4, 1), "2024 Q2", 69.0)],  # not yet published for 2024 Q3
        },
    )
    round_ = make_round("Winter 2026 self-assessment")
    db.session.add(
        Assessment(round=round_, statement=statement("safe-pathways"), score=3, rationale=f"See [{metric.reference}].")
    )
    db.session.commit()
    return live_view(round_), metric


def test_the_reading_names_each_comparator_for_the_latest_period(view):
    round_view, metric = view
    assert metric_reading(round_view.items[metric.id]) == (READING, AGAINST)


def test_the_markdown_pack_states_the_comparators(view):
    round_view, _ = view
    with zipfile.ZipFile(io.BytesIO(build_markdown_pack(round_view, GENERATED))) as pack:
        text = "\n".join(pack.read(n).decode("utf-8") for n in pack.namelist() if n.endswith(".md"))
    assert f"{READING} ({'; '.join(AGAINST)})" in text


def test_the_word_document_states_the_comparators_and_draws_them(view):
    round_view, _ = view
    document = open_docx(build_docx(round_view, GENERATED))
    text = all_text(document)
    assert READING in text
    for against in AGAINST:
        assert against[:1].upper() + against[1:] in text
    (shape,) = document.inline_shapes
    description = shape._inline.docPr.get("descr")
    assert "England average 68.4%" in description and "Regional average 70.5%" in description


def test_the_pdf_states_the_comparators(view):
    round_view, _ = view
    text = re.sub(r"\s+", " ", " ".join(pdf_text(open_pdf(build_pdf(round_view, GENERATED)))))
    assert READING in text
    for against in AGAINST:
        assert against[:1].upper() + against[1:] in text, against


def test_the_workbook_carries_every_series_with_its_chart(view):
    round_view, _ = view
    book = load_workbook(io.BytesIO(build_workbook(round_view, GENERATED)))
    sheet = book["Metrics"]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[7:] == ["Target", "England average", "Regional average", "Median"]
    assert [r[4:] for r in rows] == [
        ["2024 Q2", datetime(2024, 4, 1), 71.5, 75, 68, 70.2, 69],
        ["2024 Q3", datetime(2024, 7, 1), 72, 75, 68.4, 70.5, None],
    ]
    (chart,) = sheet._charts
    assert [s.tx.v for s in chart.series] == ["Value", "Target", "England average", "Regional average", "Median"]
    assert chart.series[4].val.numRef.f == "'Metrics'!$K$2:$K$3"
