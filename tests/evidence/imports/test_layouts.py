"""Files of any column layout: a national long-format file read through a saved layout, filtered to the council."""

from __future__ import annotations

import io
import random
import time

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from evidence import imports, periods, settings
from evidence.db import db
from evidence.imports import layouts
from evidence.imports.reading import NeedsLayout
from evidence.models import EvidenceItem, ImportLayout, MetricPoint
from evidence.vocab import Kind

METRIC = imports.get_importer("metric")
QUOTE = imports.get_importer("quote")
OURS = "E10000007"
HEADER = ["Financial year", "Local authority code", "Local authority name", "Measure", "Value", "MEDIAN"]
MEASURES = [
    "Proportion of older people still at home 91 days after discharge",
    "Carer-reported quality of life",
    "Proportion of people who use services who feel safe",
    "Permanent admissions to residential care, 65 and over, per 100,000",
    "Delayed transfers of care per 100,000",
    "Social care-related quality of life",
    "Proportion of people who use services who have control over their daily life",
    "Proportion of carers who find it easy to find information",
    "Overall satisfaction of people who use services",
    "Proportion of adults with learning disabilities in paid employment",
]
YEARS = ["2020-21", "2021-22", "2022-23", "2023-24", "2024-25", "2019/20"]


def councils(count: int) -> list[tuple[str, str]]:
    found = [(OURS, "Derbyshire")]
    found += [(f"E{6000000 + n:08d}", f"Council {n}") for n in range(1, count)]
    return found


def national_rows(count: int = 110, seed: int = 7) -> list[list]:
    """One row per council × year × measure, as a government download has it, sorted by year and measure
    (so the council's rows are spread through the file), with the median of councils in each row."""
    rng = random.Random(seed)
    rows = []
    for year in YEARS:
        for measure in MEASURES:
            median = round(rng.uniform(40, 90), 1)
            for code, name in councils(count):
                rows.append([year, code, name, measure, round(rng.uniform(30, 95), 1), median])
    return rows


def national_workbook(rows: list[list], notes: bool = True) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "ASCOF"
    if notes:  # a title and notes above the table, as a published file has
        sheet.append(["Adult Social Care Outcomes Framework: measures by local authority"])
        sheet.merge_cells("A1:F1")
        sheet.append(["Source: NHS England. Figures for 2019/20 are as first published."])
        sheet.append([])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def curator(make_user):
    return make_user("quality_lead")


@pytest.fixture
def council(app):
    settings.set_council("Derbyshire County Council", OURS)
    db.session.commit()


def choose() -> layouts.Choice:
    return layouts.Choice(
        "ASCOF national file",
        {"Metric": 3, "Period": 0, "Value": 4},
        comparators=[(5, "Median of councils")],
        filters=[(1, OURS)],
    )


def test_a_national_file_is_filtered_to_the_council_through_a_saved_layout_and_imported_once(app, curator, council):
    rows = national_rows()
    assert len(rows) >= 5000 and len({r[1] for r in rows}) >= 100
    data = national_workbook(rows)
    folder = app.config["UPLOAD_DIR"]

    # Its header is not the template's: it waits for the quality lead to say which column is which.
    stored = imports.accept_upload(folder, METRIC, "ascof-national.xlsx", data)
    assert stored.needs_layout
    with pytest.raises(NeedsLayout, match="missing the columns Metric, Period"):
        imports.preview_upload(folder, METRIC, stored.digest)

    # The columns, with samples, and a first answer: the template's spellings and a filter to the council.
    _, sample = imports.inspect_upload(folder, METRIC, stored.digest)
    assert sample.header == HEADER and sample.header_row == 4  # the title and notes above are passed over
    assert layouts.samples(sample, 0) == ["2020-21"]
    suggested = layouts.suggest(METRIC, sample)
    assert suggested.columns == {"Value": 4} and suggested.filters == [(1, OURS)]

    imports.save_layout(folder, METRIC, stored.digest, choose(), curator)
    started = time.perf_counter()
    plan = imports.preview_upload(folder, METRIC, stored.digest)
    seconds = time.perf_counter() - started
    ours = [r for r in rows if r[1] == OURS]
    assert not plan.errors
    assert len(plan.rows) == len(ours) == 60  # the row limit counts the rows kept, not the 6,600 read
    assert plan.counts == {"create": 60, "update": 0, "unchanged": 0}
    assert any("saved layout “ASCOF national file”" in n for n in plan.notices)
    assert any(f"Local authority code) is {OURS} were taken: 60 of {len(rows):,} rows" in n for n in plan.notices)
    assert seconds < 10, f"reading {len(rows):,} rows took {seconds:.1f}s"

    result = imports.confirm_upload(folder, METRIC, stored.digest, curator)
    assert (result.created, result.updated) == (60, 0)
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == len(MEASURES)
    assert db.session.scalar(select(func.count()).select_from(MetricPoint)) == 60
    feel_safe = db.session.scalar(select(EvidenceItem).filter_by(title=MEASURES[2]))
    labels = [p.label for p in feel_safe.points]
    assert labels == ["2019/20", "2020/21", "2021/22", "2022/23", "2023/24", "2024/25"]
    latest = next(r for r in ours if r[3] == MEASURES[2] and r[0] == "2024-25")
    assert feel_safe.points[-1].value == latest[4]
    # The median column fills the comparator series the layout named, a value for every period.
    (median,) = feel_safe.comparators
    assert median.name == "Median of councils"
    medians = {periods.parse(r[0]).label: r[5] for r in ours if r[3] == MEASURES[2]}
    assert [(p.label, p.value) for p in median.points] == [(label, medians[label]) for label in labels]

    # The same file again, uploaded afresh: read with the layout without asking, and it changes nothing.
    again = imports.accept_upload(folder, METRIC, "ascof-national (1).xlsx", data)
    assert not again.needs_layout
    replay = imports.preview_upload(folder, METRIC, again.digest)
    assert replay.counts == {"create": 0, "update": 0, "unchanged": 60}
    result = imports.confirm_upload(folder, METRIC, again.digest, curator)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 60)
    assert db.session.scalar(select(func.count()).select_from(MetricPoint)) == 60
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == len(MEASURES)


def test_a_corrected_national_file_changes_only_what_changed(app, curator, council):
    rows = national_rows(count=100)
    folder = app.config["UPLOAD_DIR"]
    first = imports.accept_upload(folder, METRIC, "n.xlsx", national_workbook(rows))
    imports.save_layout(folder, METRIC, first.digest, choose(), curator)
    imports.confirm_upload(folder, METRIC, first.digest, curator)

    corrected = [list(r) for r in rows]
    ours = [r for r in corrected if r[1] == OURS]
    ours[0][4] = 12.5  # one figure revised
    ours[1][4] = "n/a"  # and one spoilt
    second = imports.accept_upload(folder, METRIC, "n-revised.xlsx", national_workbook(corrected))
    plan = imports.preview_upload(folder, METRIC, second.digest)
    assert [(e.letter, e.column, e.value, e.reason) for e in plan.errors] == [("E", "Value", "n/a", "Not a number")]
    with pytest.raises(imports.ImportNotReady):
        imports.confirm_upload(folder, METRIC, second.digest, curator)
    ours[1][4] = 50.0
    third = imports.accept_upload(folder, METRIC, "n-revised-2.xlsx", national_workbook(corrected))
    plan = imports.preview_upload(folder, METRIC, third.digest)
    assert plan.counts == {"create": 0, "update": 2, "unchanged": 58}


def test_a_layout_whose_filter_keeps_nothing_says_so(app, curator, council):
    folder = app.config["UPLOAD_DIR"]
    stored = imports.accept_upload(folder, METRIC, "n.xlsx", national_workbook(national_rows(count=3)))
    choice = choose()
    choice.filters = [(1, "E99999999")]
    imports.save_layout(folder, METRIC, stored.digest, choice, curator)
    with pytest.raises(imports.ImportRefused, match="No row of the file passes the saved layout"):
        imports.preview_upload(folder, METRIC, stored.digest)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "give the layout a name"),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"columns": {"Metric": 3, "Value": 4}}, "column_period", "Period: choose the column that holds it"),
        ({"columns": {"Metric": 3, "Period": 3, "Value": 4}}, "column_period", "already chosen for Metric"),
        ({"columns": {"Metric": 3, "Period": 99, "Value": 4}}, "column_period", "choose one of the file's columns"),
        ({"columns": {"Metric": 3, "Period": -1, "Value": 4}}, "column_period", "choose one of the file's columns"),
        ({"comparators": [(5, "")]}, "comparator_name_0", "name the comparator"),
        ({"comparators": [(4, "Median")]}, "comparator_0", "already chosen for Value"),
        ({"filters": [(1, "")]}, "filter_value_0", "the value Local authority code must equal"),
        ({"filters": [(1, "E" * 201)]}, "filter_value_0", "at most 200 characters"),
    ],
)
def test_a_layout_that_cannot_be_read_is_refused_naming_the_field(app, curator, change, field, message):
    folder = app.config["UPLOAD_DIR"]
    stored = imports.accept_upload(folder, METRIC, "n.xlsx", national_workbook(national_rows(count=2)))
    choice = choose()
    for name, value in change.items():
        setattr(choice, name, value)
    with pytest.raises(layouts.LayoutError, match=message) as refused:
        imports.save_layout(folder, METRIC, stored.digest, choice, curator)
    assert refused.value.field == field
    assert db.session.scalar(select(func.count()).select_from(ImportLayout)) == 0


def test_quotes_in_a_councils_own_columns(app, curator):
    rows = [["Comment", "Who said it", "Type of voice", "Theme", "Survey", "Month"]]
    rows += [
        [f"They listened to me ({n})", "Carer", "carer", "facilitator", "Carers survey", "Apr-24"] for n in range(3)
    ]
    folder = app.config["UPLOAD_DIR"]
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    stored = imports.accept_upload(folder, QUOTE, "comments.xlsx", buffer.getvalue())
    assert stored.needs_layout
    _, sample = imports.inspect_upload(folder, QUOTE, stored.digest)
    assert sample.header[5] == "Month" and layouts.samples(sample, 5) == ["Apr-24"]
    choice = layouts.Choice(
        "Carers survey comments", {"Quote": 0, "Speaker role": 1, "Voice": 2, "Tone": 3, "Source": 4, "Period": 5}
    )
    imports.save_layout(folder, QUOTE, stored.digest, choice, curator)
    result = imports.confirm_upload(folder, QUOTE, stored.digest, curator)
    assert result.created == 3
    quote = db.session.scalar(select(EvidenceItem).filter_by(kind=Kind.QUOTE))
    assert (quote.period_start.isoformat(), quote.source) == ("2024-04-01", "Carers survey")
