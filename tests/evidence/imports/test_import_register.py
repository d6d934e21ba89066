"""The evidence register round trip: export it to Excel, edit it, import it again, and the same items change."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from evidence import imports
from evidence.assessment.round_view import live_view
from evidence.db import db
from evidence.models import AuditEvent, EvidenceItem, Mapping
from evidence.vocab import Kind, Status
from exports.workbook import build_workbook
from tests.factories import category, make_item, make_round, statement

REGISTER = imports.get_importer("register")
SHEET = "Evidence register"
STAMP = datetime(2026, 5, 1, 9, 30)
HEADER = [
    "Reference",
    "Kind",
    "Title",
    "Summary",
    "Source",
    "Period start",
    "Period end",
    "Review by",
    "Stale",
    "Quality statement",
    "Evidence category",
    "Stance",
    "Note",
]


@pytest.fixture
def curator(make_user):
    return make_user("quality_lead")


@pytest.fixture
def portfolio(app):
    """Accepted evidence of three kinds (one with two mappings, one with none) and one submission."""
    survey = make_item(
        "Carers  feel listened to ",  # stray spaces: the export and import must not count them as an edit
        summary="61% of carers said they felt listened to.\n\nUp from 57% last year.",
        source="Carers survey 2025-26",
        review_by=date(2027, 1, 31),
        mappings=[("assessing-needs", "peoples-experience", "strength"), ("equity", "processes", "context")],
    )
    survey.mappings[0].note = "Up from 57%"
    quote = make_item(
        "=SUM(A1:A3) looks like a formula",
        kind=Kind.QUOTE,
        quote_text="Once I had one named worker, things changed.",
        speaker_role="Carer",
        voice="carer",
        quote_tone="facilitator",
        summary="",
        source="",
        mappings=[("safeguarding", "peoples-experience", "shortfall")],
    )
    metric = make_item(
        "Reviews completed on time", kind=Kind.METRIC, direction="higher", period_start=None, period_end=None
    )
    waiting = make_item("Waiting for review", status=Status.SUBMITTED)
    round_ = make_round()
    db.session.commit()
    return SimpleNamespace(survey=survey, quote=quote, metric=metric, waiting=waiting, round=round_)


# --- Files --------------------------------------------------------------------------------------------------------


def export(portfolio) -> bytes:
    return build_workbook(live_view(portfolio.round), STAMP)


def save(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def edit(data: bytes, *changes: tuple[str, str | None, str, object], append: list[list] = ()) -> bytes:
    """Set cells of the register: (reference, quality statement or None for every row of the item, column, value)."""
    book = load_workbook(io.BytesIO(data))
    sheet = book[SHEET]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        reference, mapped_to = row[0].value, row[header.index("Quality statement")].value
        for wanted, statement_name, column, value in changes:
            if reference == wanted and statement_name in (None, mapped_to):
                cell = row[header.index(column)]
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # typed text, never a formula
    for values in append:
        sheet.append(values)
    return save(book)


def put(sheet, rows: list[list]) -> None:
    """Append rows; text stays text even when it starts with = (as the export writes it)."""
    for values in rows:
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"


def register_rows(data: bytes) -> list[list]:
    """The register sheet's cells, header first."""
    sheet = load_workbook(io.BytesIO(data), read_only=True)[SHEET]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def as_csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if v is None else v.date().isoformat() if isinstance(v, datetime) else v for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def plan_of(data: bytes, name: str = "register.xlsx"):
    return imports.plan_file(REGISTER, name, data)


def import_(data: bytes, user, name: str = "register.xlsx", **kw):
    return imports.import_file(REGISTER, name, data, user, **kw)


def state():
    """Every item and mapping as stored, to show that nothing (or only what was meant) changed."""
    db.session.expire_all()
    items = db.session.execute(
        select(
            EvidenceItem.id,
            EvidenceItem.version,
            EvidenceItem.status,
            EvidenceItem.title,
            EvidenceItem.summary,
            EvidenceItem.source,
            EvidenceItem.period_start,
            EvidenceItem.period_end,
            EvidenceItem.review_by,
            EvidenceItem.personal_data,
        ).order_by(EvidenceItem.id)
    ).all()
    mappings = db.session.execute(
        select(
            Mapping.id, Mapping.item_id, Mapping.statement_id, Mapping.category_id, Mapping.stance, Mapping.note
        ).order_by(Mapping.id)
    ).all()
    return items, mappings


def events(entity_type: str | None = None, entity_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action != "import").order_by(AuditEvent.id)
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    return list(db.session.scalars(query))


def mapping_of(item: EvidenceItem, statement_key: str, category_key: str) -> Mapping:
    return db.session.scalar(
        select(Mapping).where(
            Mapping.item_id == item.id,
            Mapping.statement_id == statement(statement_key).id,
            Mapping.category_id == category(category_key).id,
        )
    )


def errors_of(plan) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.reason) for e in plan.errors]


# --- The round trip -----------------------------------------------------------------------------------------------


def test_an_unedited_export_imports_as_unchanged_and_changes_nothing(portfolio, curator):
    data = export(portfolio)
    before, trail = state(), events()

    plan = plan_of(data)
    assert plan.errors == []
    assert [(r.row, r.action) for r in plan.rows] == [
        (2, "unchanged"),
        (3, "unchanged"),
        (4, "unchanged"),
        (5, "unchanged"),
    ]
    assert [r.cells[0] for r in plan.rows] == ["E-1", "E-1", "E-2", "E-3"]
    assert all(r.changes == [] and r.findings == [] for r in plan.rows)
    assert plan.summary == "nothing to change: all 4 rows are already up to date"
    assert any("Only the sheet “Evidence register” was read" in n for n in plan.notices)
    assert any("Kind and Stale are read-only" in n for n in plan.notices)

    result = import_(data, curator)
    assert result.message.startswith("Nothing changed")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)
    assert state() == before
    assert events() == trail


def test_an_edited_export_updates_the_same_items_and_records_before_and_after(portfolio, curator):
    survey, quote = portfolio.survey, portfolio.quote
    items_before, mappings_before = state()
    version = survey.version
    data = edit(
        export(portfolio),
        ("E-1", None, "Title", "Carers say they are listened to"),
        ("E-1", None, "Review by", datetime(2027, 3, 31)),
        ("E-1", "Equity in experience and outcomes", "Stance", "Strength"),
        ("E-1", "Assessing needs", "Note", "Up from 57%; England average 64%"),
        ("E-2", None, "Note", "Said at the carers' forum"),
    )

    plan = plan_of(data)
    assert plan.errors == []
    changed = {r.row: r.changes for r in plan.rows if r.action == "update"}
    assert changed == {
        2: [
            "Title: Carers  feel listened to  → Carers say they are listened to",
            "Review by: 2027-01-31 → 2027-03-31",
            "Assessing needs · People's experience: note Up from 57% → Up from 57%; England average 64%",
        ],
        3: ["Equity in experience and outcomes · Processes: stance context → strength"],
        4: ["Safeguarding · People's experience: note (blank) → Said at the carers' forum"],
    }
    assert plan.count("unchanged") == 1  # the metric's row
    assert [r.row for r in plan.rows][:3] == [2, 3, 4]  # changes first
    assert plan.summary == "1 item to edit, 3 mappings to change; 1 of 4 rows already up to date"

    result = import_(data, curator)
    assert (result.created, result.updated, result.unchanged) == (0, 4, 1)
    assert result.message == (
        "Updated the evidence register from register.xlsx: 1 item edited, 3 mappings changed; 1 row already up to date."
    )
    items_after, mappings_after = state()
    # The same items and mappings: none added, none removed.
    assert [i.id for i in items_after] == [i.id for i in items_before]
    assert [(m.id, m.item_id, m.statement_id, m.category_id) for m in mappings_after] == [
        (m.id, m.item_id, m.statement_id, m.category_id) for m in mappings_before
    ]
    db.session.refresh(survey)
    assert survey.title == "Carers say they are listened to"
    assert survey.review_by == date(2027, 3, 31)
    assert survey.summary == "61% of carers said they felt listened to.\n\nUp from 57% last year."
    assert survey.version == version + 1
    assert mapping_of(survey, "equity", "processes").stance == "strength"
    assert mapping_of(survey, "assessing-needs", "peoples-experience").note == "Up from 57%; England average 64%"
    assert mapping_of(survey, "assessing-needs", "peoples-experience").stance == "strength"
    assert mapping_of(quote, "safeguarding", "peoples-experience").note == "Said at the carers' forum"

    item_events = events("evidence_item", survey.id)
    assert [e.action for e in item_events] == ["update", "map"]  # row 2 edits the item, row 3 its other mapping
    item_event = item_events[0]
    assert item_event.user_id == curator.id
    assert item_event.before == {"title": "Carers  feel listened to ", "review_by": "2027-01-31"}
    assert item_event.after == {"title": "Carers say they are listened to", "review_by": "2027-03-31"}
    assert "import of register.xlsx, row 2" in item_event.summary
    stance_event = events("mapping", mapping_of(survey, "equity", "processes").id)[-1]
    assert (stance_event.before, stance_event.after) == ({"stance": "context"}, {"stance": "strength"})
    note_event = events("mapping", mapping_of(quote, "safeguarding", "peoples-experience").id)[-1]
    assert (note_event.before, note_event.after) == ({"note": ""}, {"note": "Said at the carers' forum"})
    assert "row 4" in events("evidence_item", quote.id)[-1].summary  # the quote's own history shows it too
    import_event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert import_event.after["kind"] == "register" and import_event.after["references"] == ["E-1", "E-2"]

    # The same file again: nothing left to change.
    settled, trail = state(), events()
    again = import_(data, curator)
    assert again.message.startswith("Nothing changed")
    assert state() == settled and events() == trail
    # And a fresh export of the result imports as unchanged too.
    assert plan_of(export(portfolio)).count("unchanged") == 4


def test_a_csv_of_the_register_can_add_mappings_and_clear_a_summary(portfolio, curator):
    rows = register_rows(export(portfolio))
    header = rows[0]
    for row in rows[1:]:
        if row[0] == "E-1":
            row[header.index("Summary")] = None
    metric_row = next(r for r in rows if r[0] == "E-3")
    metric_row[header.index("Quality statement")] = "governance"
    metric_row[header.index("Evidence category")] = "Processes"
    new_row = list(rows[1])
    new_row[header.index("Quality statement")] = "Learning, improvement and innovation"
    new_row[header.index("Evidence category")] = "Feedback from partners"
    new_row[header.index("Stance")] = "Strength"
    new_row[header.index("Note")] = "Partners named it in the peer review"
    rows.append(new_row)
    mappings_before = len(state()[1])

    plan = plan_of(as_csv(rows), "register.csv")
    assert plan.errors == []
    changes = {r.row: r.changes for r in plan.rows if r.action == "update"}
    assert changes[5] == ["add mapping to Governance, management and sustainability · Processes (context)"]
    assert changes[6] == [
        "add mapping to Learning, improvement and innovation · Feedback from partners (strength) "
        "with the note “Partners named it in the peer review”"
    ]
    assert changes[2][0].startswith("Summary: 61% of carers") and changes[2][0].endswith("→ (blank)")

    result = import_(as_csv(rows), curator, "register.csv")
    assert (result.created, result.updated) == (2, 1)
    items, mappings = state()
    assert len(items) == 4 and len(mappings) == mappings_before + 2
    db.session.refresh(portfolio.survey)
    assert portfolio.survey.summary == ""
    added = mapping_of(portfolio.metric, "governance", "processes")
    assert added.stance == "context" and added.note == ""
    learning = mapping_of(portfolio.survey, "learning", "partners")
    assert (learning.stance, learning.note) == ("strength", "Partners named it in the peer review")
    created = events("mapping", learning.id)[-1]
    assert created.action == "create" and created.after["note"] == "Partners named it in the peer review"
    assert import_(as_csv(rows), curator, "register.csv").message.startswith("Nothing changed")


def test_columns_left_out_of_the_file_change_nothing(portfolio, curator):
    data = as_csv([["Reference", "Title"], ["E-1", "Carers feel heard"], ["E-3", "Reviews completed on time"]])
    plan = plan_of(data, "titles.csv")
    assert [(r.row, r.action, r.changes) for r in plan.rows] == [
        (2, "update", ["Title: Carers  feel listened to  → Carers feel heard"]),
        (3, "unchanged", []),
    ]
    import_(data, curator, "titles.csv")
    db.session.refresh(portfolio.survey)
    assert portfolio.survey.title == "Carers feel heard"
    assert portfolio.survey.summary.startswith("61% of carers")
    assert portfolio.survey.review_by == date(2027, 1, 31)
    assert mapping_of(portfolio.survey, "assessing-needs", "peoples-experience").note == "Up from 57%"


def test_dates_may_be_written_as_people_write_them(portfolio, curator):
    data = as_csv(
        [["Reference", "Period start", "Period end", "Review by"], ["E-1", "2026 Q2", "30 Jun 2026", "Mar 2027"]]
    )
    assert plan_of(data, "dates.csv").rows[0].changes == ["Review by: 2027-01-31 → 2027-03-31"]


# --- Rows that cannot be imported ----------------------------------------------------------------------------------


def test_unknown_missing_and_not_accepted_references_are_errors_by_row(portfolio, curator):
    blank = [None] * len(HEADER)

    def row(reference, title):
        values = list(blank)
        values[0], values[2] = reference, title
        return values

    data = edit(
        export(portfolio),
        ("E-1", None, "Title", "An edit that must not be saved"),
        append=[
            row("E-999", "Not in the portfolio"),
            row(portfolio.waiting.reference, "Waiting for review"),
            row(None, "Brand new evidence"),
            row("Survey 12", "Not a reference"),
        ],
    )
    before, trail = state(), events()

    plan = plan_of(data)
    assert {(e.row, e.column) for e in plan.errors} == {
        (6, "Reference"),
        (7, "Reference"),
        (8, "Reference"),
        (9, "Reference"),
    }
    reasons = {e.row: e.reason for e in plan.errors}
    assert reasons[6].startswith("No evidence item E-999 exists")
    assert reasons[7].startswith(f"{portfolio.waiting.reference} is submitted, not accepted")
    assert reasons[8].startswith("Missing reference")
    assert "only updates evidence already in the portfolio" in reasons[8] and "submit form" in reasons[8]
    assert reasons[9].startswith("Not an evidence reference")
    assert all(e.letter == "A" for e in plan.errors)
    assert not plan.ok

    with pytest.raises(imports.ImportNotReady, match=r"4 problems in 4 rows\. Nothing was imported"):
        import_(data, curator)
    assert state() == before and events() == trail


def test_an_item_that_is_no_longer_accepted_is_an_error(portfolio, curator):
    data = edit(export(portfolio), ("E-3", None, "Title", "Renamed"))
    portfolio.metric.status = Status.ARCHIVED
    db.session.commit()
    plan = plan_of(data)
    assert errors_of(plan) == [
        (
            5,
            "Reference",
            "E-3 is archived, not accepted: only accepted evidence is in the register, "
            "and only accepted evidence can be updated here",
        )
    ]


def test_rows_of_one_item_that_disagree_are_an_error_naming_both_rows(portfolio, curator):
    data = edit(
        export(portfolio),
        ("E-1", "Assessing needs", "Title", "Carers say they are listened to"),
        ("E-1", "Equity in experience and outcomes", "Review by", datetime(2028, 1, 1)),
    )
    before = state()
    plan = plan_of(data)
    assert [(e.row, e.column, e.letter) for e in plan.errors] == [(3, "Title", "C"), (3, "Review by", "H")]
    assert plan.errors[0].reason.startswith(
        "Differs from row 2 (Carers say they are listened to): the rows of E-1 must agree on its title"
    )
    assert "change it in every row of the item" in plan.errors[0].reason
    assert plan.errors[1].reason.startswith("Differs from row 2 (2027-01-31)")
    with pytest.raises(imports.ImportNotReady):
        import_(data, curator)
    assert state() == before


def test_bad_values_are_named_by_row_and_column(portfolio, curator):
    exported = register_rows(export(portfolio))
    rows_of = {values[0]: values for values in exported[1:]}  # the last row of each item

    def row(reference: str, **changes) -> list:
        values = list(rows_of[reference])
        for name, value in changes.items():
            values[HEADER.index(name.replace("_", " ").capitalize())] = value
        return values

    unmapped = {"quality_statement": None, "evidence_category": None, "stance": None, "note": None}
    rows = [
        HEADER,
        row("E-3", title=""),  # 2: an item needs a title
        row("E-1", period_start="2026-06-01", period_end="2026-05-01", **unmapped),  # 3
        row("E-3", stance="Very strong", quality_statement="Safeguarding", evidence_category="Processes"),  # 4
        row("E-3", quality_statement="Nonsense", evidence_category="Processes"),  # 5
        row("E-3", quality_statement="Safeguarding"),  # 6: no category
        row("E-3", note="A note without a mapping"),  # 7
        row("E-3", review_by="next year"),  # 8
        row("E-2"),  # 9
        row("E-2"),  # 10: the same mapping twice
    ]
    data = as_csv(rows)
    before = state()
    plan = plan_of(data, "bad.csv")
    found = {(e.row, e.column): e.reason for e in plan.errors}
    assert found == {
        (2, "Title"): "This is required for a metric",
        (3, "Period end"): "Must be on or after the period start",
        (4, "Stance"): "Unknown stance: use one of context, shortfall, strength",
        (5, "Quality statement"): "Unknown quality statement: use its name (e.g. Safeguarding) or key (safeguarding)",
        (6, "Evidence category"): "Missing value: needed with a quality statement",
        (7, "Note"): "Needs a quality statement in the same row: a note belongs to a mapping "
        "(a quality statement and evidence category)",
        (8, "Review by"): "Date does not parse: write it as 30/09/2026, 2026-09-30 or 30 Sep 2026, "
        "or a month such as 2026-03",
        (10, "Quality statement"): "Repeats row 9: E-2 has one mapping to Safeguarding · People's experience",
    }
    with pytest.raises(imports.ImportNotReady):
        import_(data, curator, "bad.csv")
    assert state() == before


def test_an_item_cannot_lose_its_review_by_date_or_source(portfolio, curator):
    data = as_csv([["Reference", "Source", "Review by"], ["E-1", "", ""]])
    found = {(e.row, e.column): e.reason for e in plan_of(data, "blank.csv").errors}
    assert found == {
        (2, "Source"): "This is required for a survey finding",
        (2, "Review by"): "Missing value: accepted evidence needs a review-by date",
    }
    # A period may be cleared, but not its start alone.
    data = as_csv([["Reference", "Period start"], ["E-1", ""]])
    found = {(e.row, e.column): e.reason for e in plan_of(data, "blank.csv").errors}
    assert found == {(2, "Period start"): "Give a start when there is an end"}
    data = as_csv([["Reference", "Period start", "Period end"], ["E-1", "", ""]])
    assert plan_of(data, "blank.csv").rows[0].changes == [
        "Period start: 2026-04-01 → (blank)",
        "Period end: 2026-06-30 → (blank)",
    ]


def test_text_longer_than_a_cell_is_not_cut_short_by_an_unedited_round_trip(portfolio, curator):
    long_summary = "A finding. " * 3100  # 34,100 characters: the export keeps the first 32,767
    portfolio.metric.summary = long_summary
    db.session.commit()
    assert plan_of(export(portfolio)).count("unchanged") == 4
    import_(export(portfolio), curator)
    db.session.refresh(portfolio.metric)
    assert portfolio.metric.summary == long_summary


def test_an_edited_summary_or_note_may_be_as_long_as_the_forms_allow(portfolio, curator):
    data = edit(
        export(portfolio),
        ("E-3", None, "Summary", "Long. " * 4000),
        ("E-2", None, "Note", "Longer than a note may be. " * 100),
    )
    found = {(e.row, e.column): e.reason for e in plan_of(data).errors}
    assert found == {
        (4, "Note"): "Too long: at most 2,000 characters (this has 2,699)",
        (5, "Summary"): "Too long: at most 20,000 characters (this has 23,999)",
    }


# --- Reading the workbook -----------------------------------------------------------------------------------------


def test_formula_looking_text_survives_as_text(portfolio, curator):
    data = export(portfolio)
    title_cell = load_workbook(io.BytesIO(data))[SHEET]["C4"]
    assert title_cell.value == "=SUM(A1:A3) looks like a formula" and title_cell.data_type == "s"
    assert plan_of(data).count("unchanged") == 4

    data = edit(
        data,
        ("E-3", None, "Title", '=HYPERLINK("http://example.com","click")'),
        ("E-1", "Assessing needs", "Note", "@SUM(1+1)"),
        ("E-2", None, "Source", "+44 is a dialling code, not a sum"),
    )
    import_(data, curator)
    db.session.expire_all()
    assert portfolio.metric.title == '=HYPERLINK("http://example.com","click")'
    assert mapping_of(portfolio.survey, "assessing-needs", "peoples-experience").note == "@SUM(1+1)"
    assert portfolio.quote.source == "+44 is a dialling code, not a sum"
    assert portfolio.quote.title == "=SUM(A1:A3) looks like a formula"
    # Exported again, it is still text and still unchanged.
    again = export(portfolio)
    assert plan_of(again).count("unchanged") == 4
    sheet = load_workbook(io.BytesIO(again))[SHEET]
    assert sheet["C5"].value == '=HYPERLINK("http://example.com","click")' and sheet["C5"].data_type == "s"


def test_kind_and_stale_are_read_only(portfolio, curator):
    data = edit(export(portfolio), ("E-1", None, "Kind", "Metric"), ("E-1", None, "Stale", "Yes"))
    plan = plan_of(data)
    assert plan.count("unchanged") == 4
    assert "Kind and Stale are read-only: those columns were not read." in plan.notices
    assert [c.name for c in REGISTER.columns if c.type_label == "Read only"] == ["Kind", "Stale"]


def test_a_workbook_of_several_sheets_without_the_register_is_refused_naming_them(app):
    book = Workbook()
    book.active.title = "Summary"
    book.create_sheet("Notes")
    with pytest.raises(imports.ImportRefused, match=r"no sheet named “Evidence register”.*“Summary”, “Notes”"):
        plan_of(save(book))


def test_a_workbook_of_one_sheet_is_read_whatever_its_name(portfolio, curator):
    rows = register_rows(edit(export(portfolio), ("E-3", None, "Title", "Reviews on time")))
    book = Workbook()
    book.active.title = "My edits"
    put(book.active, rows)
    plan = plan_of(save(book))
    assert plan.errors == [] and plan.count("update") == 1
    assert not any("was read" in n for n in plan.notices)


def test_the_register_sheet_is_found_by_name_in_any_case_and_position(portfolio, curator):
    book = load_workbook(io.BytesIO(edit(export(portfolio), ("E-3", None, "Title", "Reviews on time"))))
    sheet = book[SHEET]
    sheet.title = "Renamed"  # openpyxl refuses a new name differing only in case from the old one
    sheet.title = "evidence REGISTER"
    book.move_sheet(sheet, offset=4)
    assert book.sheetnames[-1] == "evidence REGISTER"
    plan = plan_of(save(book))
    assert plan.errors == [] and plan.count("update") == 1
    assert "Only the sheet “evidence REGISTER” was read; the workbook's other sheets were not." in plan.notices


def test_a_file_without_a_reference_column_is_refused_saying_what_to_upload(app):
    data = as_csv([["Survey name", "Question", "Result"], ["ASCS", "Do you feel safe?", "72%"]])
    with pytest.raises(imports.ImportRefused) as refused:
        plan_of(data, "survey.csv")
    assert str(refused.value) == (
        "This does not look like an evidence register: the header row (row 1) has no Reference column. "
        "It has: Survey name, Question, Result. Upload the workbook exported by Assure (its Evidence register "
        "sheet is read), or that sheet saved as CSV."
    )


def test_the_other_imports_still_read_the_first_sheet(app, curator):
    book = Workbook()
    book.active.append(["Quote", "Speaker role", "Voice", "Tone"])
    book.active.append(["It helped.", "Carer", "carer", "neutral"])
    register = book.create_sheet(SHEET)
    register.append(HEADER)
    plan = imports.plan_file(imports.get_importer("quote"), "quotes.xlsx", save(book))
    assert plan.errors == [] and plan.count("create") == 1


# --- Personal data --------------------------------------------------------------------------------------------------


def test_personal_data_in_an_edited_cell_needs_confirming(portfolio, curator):
    data = edit(export(portfolio), ("E-2", None, "Note", "Mrs Smith said this; call 07700 900123"))
    plan = plan_of(data)
    assert [r.row for r in plan.personal_data_rows] == [4]
    before = state()
    with pytest.raises(imports.ImportNotReady, match="personal data"):
        import_(data, curator)
    assert state() == before

    import_(data, curator, confirm_personal_data=True)
    db.session.refresh(portfolio.quote)
    assert portfolio.quote.personal_data is True
    event = events("evidence_item", portfolio.quote.id)[-1]
    assert "Possible personal data confirmed" in event.summary
    assert (event.before, event.after) == ({"personal_data": False}, {"personal_data": True})
