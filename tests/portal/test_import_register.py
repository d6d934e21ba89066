"""The evidence register round trip in the browser: export, edit, upload, preview, confirm."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from evidence import imports
from evidence.assessment.round_view import live_view
from evidence.db import db
from evidence.models import AuditEvent, EvidenceItem, Mapping
from evidence.vocab import Kind, Status
from exports.workbook import build_workbook
from tests.factories import make_item, make_round

SHEET = "Evidence register"
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
def portfolio(app):
    survey = make_item(
        "Carers feel listened to",
        review_by=date(2027, 1, 31),
        mappings=[("assessing-needs", "peoples-experience", "strength"), ("equity", "processes", "context")],
    )
    quote = make_item(
        "=SUM(A1:A3) looks like a formula",
        kind=Kind.QUOTE,
        quote_text="One named worker made the difference.",
        speaker_role="Carer",
        voice="carer",
        quote_tone="facilitator",
        mappings=[("safeguarding", "peoples-experience", "shortfall")],
    )
    waiting = make_item("Waiting for review", status=Status.SUBMITTED)
    return survey, quote, waiting, make_round()


def export(round_) -> bytes:
    return build_workbook(live_view(round_), datetime(2026, 5, 1, 9, 30))


def edit(data: bytes, *changes: tuple[str, str | None, str, object], append: list[list] = ()) -> bytes:
    """Set register cells: (reference, quality statement or None for every row of the item, column, value)."""
    book = load_workbook(io.BytesIO(data))
    sheet = book[SHEET]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        for reference, statement_name, column, value in changes:
            if row[0].value == reference and statement_name in (None, row[header.index("Quality statement")].value):
                row[header.index(column)].value = value
                if isinstance(value, str):
                    row[header.index(column)].data_type = "s"
    for values in append:
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, name: str, data: bytes):
    return client.post("/import/register", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def digest_of(response) -> str:
    match = re.search(r"/preview/([0-9a-f]{64})", response.headers["Location"])
    assert match, response.headers.get("Location")
    return match.group(1)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(EvidenceItem.id))),
        db.session.scalar(select(func.count(Mapping.id))),
    )


def confirm(client, digest: str, **data):
    return client.post("/import/register/confirm", data={"digest": digest, **data}, follow_redirects=True)


# --- The pages ------------------------------------------------------------------------------------------------------


def test_the_import_page_offers_the_register_with_an_explanation(client, login):
    login()
    page = text(client.get("/import"))
    assert "Evidence register" in page and 'href="/import/register"' in page
    assert "Start from the Excel export of the current round" in page
    assert "Kind and Stale are read-only and ignored" in page
    assert 'href="/exports"' in page and "/import/register/template.csv" in page


def test_the_register_page_explains_references_read_only_columns_and_starting_from_an_export(client, login):
    login()
    page = text(client.get("/import/register"))
    assert "Start from an export" in page and 'href="/exports"' in page
    assert "only its Evidence register sheet is read" in page
    assert "Every row needs a reference" in page and "submit form" in page
    assert "Kind and Stale are read-only: they are ignored on import" in page
    assert "rows disagree and nothing is imported" in page
    assert "Deleting a row removes nothing" in page
    assert "Only accepted evidence can be updated here" in page
    assert "Imported evidence is accepted straight away" not in page
    for heading in HEADER:
        assert f'<th scope="row">{heading}</th>' in page
    assert page.count(">Ignored<") == 2  # Kind and Stale


def test_the_template_is_the_register_headings(client, login):
    login()
    book = load_workbook(io.BytesIO(client.get("/import/register/template.xlsx").data))
    assert book.sheetnames[0] == SHEET
    assert [c.value for c in book[SHEET][1]] == HEADER
    response = client.get("/import/register/template.csv")
    assert next(csv.reader(io.StringIO(response.data.decode("utf-8-sig")))) == HEADER


# --- Upload, preview, confirm ---------------------------------------------------------------------------------------


def test_an_edited_export_updates_the_same_items_through_the_browser(client, login, portfolio):
    user = login()
    survey, quote, _, round_ = portfolio
    before = counts()
    data = edit(
        export(round_),
        ("E-1", None, "Title", "Carers say they are listened to"),
        ("E-1", None, "Review by", datetime(2027, 3, 31)),
        ("E-1", "Equity in experience and outcomes", "Stance", "Strength"),
        ("E-2", None, "Note", "Said at the carers' forum"),
    )

    response = upload(client, "edited register.xlsx", data)
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "1 item to edit, 2 mappings to change; 0 of 3 rows already up to date" in page
    assert "Title: Carers feel listened to → Carers say they are listened to" in page
    assert "Review by: 2027-01-31 → 2027-03-31" in page
    assert "Equity in experience and outcomes · Processes: stance context → strength" in page
    assert "Safeguarding · People's experience: note (blank) → Said at the carers' forum" in page
    assert "Only the sheet “Evidence register” was read" in page
    assert "Kind and Stale are read-only" in page
    assert "Every change below will be saved together" in page and "Save the changes" in page
    assert counts() == before  # previewing writes nothing

    done = text(confirm(client, digest_of(response)))
    assert "Updated the evidence register from edited register.xlsx: 1 item edited, 2 mappings changed" in done
    assert counts() == before  # the same items: nothing duplicated
    db.session.expire_all()
    assert db.session.get(EvidenceItem, survey.id).title == "Carers say they are listened to"
    assert db.session.get(EvidenceItem, survey.id).review_by == date(2027, 3, 31)
    stances = {m.statement.key: m.stance for m in db.session.get(EvidenceItem, survey.id).mappings}
    assert stances == {"assessing-needs": "strength", "equity": "strength"}
    assert db.session.get(EvidenceItem, quote.id).mappings[0].note == "Said at the carers' forum"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "evidence_item", AuditEvent.entity_id == survey.id)
    ).all()[-2]
    assert event.user_id == user.id and event.before["title"] == "Carers feel listened to"
    assert event.after["title"] == "Carers say they are listened to"

    # The item's page shows the change in its history.
    item_page = text(client.get(f"/evidence/{survey.id}"))
    assert "Carers say they are listened to" in item_page and "import of edited register.xlsx" in item_page

    # The same file again changes nothing.
    again = upload(client, "edited register.xlsx", data)
    page = text(client.get(again.headers["Location"]))
    assert "nothing to change: all 3 rows are already up to date" in page
    assert "Everything in this file is already in the portfolio" in page
    assert "Nothing changed" in text(confirm(client, digest_of(again)))
    assert counts() == before


def test_an_unedited_export_shows_every_row_unchanged_and_changes_nothing(client, login, portfolio):
    login()
    round_ = portfolio[3]
    before = counts()
    trail = db.session.scalar(select(func.count(AuditEvent.id)))
    response = upload(client, "register.xlsx", export(round_))
    page = text(client.get(response.headers["Location"]))
    assert page.count(">Unchanged<") == 3 and ">Update<" not in page
    assert "=SUM(A1:A3) looks like a formula" in page
    assert "Nothing changed" in text(confirm(client, digest_of(response)))
    assert counts() == before
    assert db.session.scalar(select(func.count(AuditEvent.id))) == trail + 1  # the import itself, no more


def test_a_csv_of_the_register_adds_a_mapping(client, login, portfolio):
    login()
    rows = [
        HEADER,
        ["E-2", "Quote", "=SUM(A1:A3) looks like a formula", "", "", "", "", "", "", "Learning", "Processes", "", ""],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    response = upload(client, "register.csv", buffer.getvalue().encode("utf-8-sig"))
    page = text(client.get(response.headers["Location"]))
    # A blank cell clears a value: the quote's summary, source, period and review-by would go, and some cannot.
    assert "Source" in page and "This is required for a quote" in page

    rows = [["Reference", "Quality statement", "Evidence category", "Note"], ["E-2", "Learning", "Processes", "=1+1"]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    mappings = counts()[1]
    response = upload(client, "register.csv", buffer.getvalue().encode("utf-8-sig"))
    page = text(client.get(response.headers["Location"]))
    assert "add mapping to Learning, improvement and innovation · Processes (context) with the note “=1+1”" in page
    assert "1 mapping added" in text(confirm(client, digest_of(response)))
    assert counts()[1] == mappings + 1
    added = db.session.scalar(select(Mapping).order_by(Mapping.id.desc()))
    assert (added.item_id, added.stance, added.note) == (portfolio[1].id, "context", "=1+1")


def test_unknown_and_not_accepted_references_are_listed_by_row_and_cannot_be_confirmed(client, login, portfolio):
    login()
    _, _, waiting, round_ = portfolio
    blank = [None] * len(HEADER)
    data = edit(
        export(round_),
        ("E-1", None, "Title", "Must not be saved"),
        append=[
            ["E-999", *blank[1:]],
            [waiting.reference, *blank[1:]],
            [None, "Survey finding", "Brand new evidence", *blank[3:]],
        ],
    )
    response = upload(client, "register.xlsx", data)
    page = text(client.get(response.headers["Location"]))
    assert "3 problems in 3 rows: nothing can be imported yet" in page
    assert "No evidence item E-999 exists" in page
    assert f"{waiting.reference} is submitted, not accepted" in page
    assert "Missing reference. This import only updates evidence already in the portfolio" in page
    for row in (5, 6, 7):
        assert f'<th scope="row" class="num">{row}</th>' in page
    assert "Upload the corrected file" in page and "Save the changes" not in page

    done = text(confirm(client, digest_of(response)))
    assert "Nothing was imported" in done
    db.session.expire_all()
    assert db.session.get(EvidenceItem, 1).title == "Carers feel listened to"


def test_rows_of_one_item_that_disagree_are_an_error(client, login, portfolio):
    login()
    data = edit(export(portfolio[3]), ("E-1", "Assessing needs", "Title", "Only in one row"))
    response = upload(client, "register.xlsx", data)
    page = text(client.get(response.headers["Location"]))
    assert "1 problem in 1 row" in page
    assert "Differs from row 2 (Only in one row): the rows of E-1 must agree on its title" in page
    assert "Nothing was imported" in text(confirm(client, digest_of(response)))
    db.session.expire_all()
    assert db.session.get(EvidenceItem, 1).title == "Carers feel listened to"


def test_a_workbook_without_the_register_sheet_is_refused(client, login, app):
    login()
    book = Workbook()
    book.active.title = "Summary"
    book.create_sheet("Notes")
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(client, "other.xlsx", buffer.getvalue())
    assert response.status_code == 422
    assert "has no sheet named “Evidence register”" in text(response)


def test_personal_data_in_an_edited_note_needs_confirming(client, login, portfolio):
    login()
    data = edit(export(portfolio[3]), ("E-2", None, "Note", "Mrs Smith said it; call 07700 900123"))
    response = upload(client, "register.xlsx", data)
    digest = digest_of(response)
    page = text(client.get(response.headers["Location"]))
    assert "Possible personal data" in page
    assert "looks like personal data" in text(confirm(client, digest))
    db.session.expire_all()
    assert db.session.get(EvidenceItem, 2).mappings[0].note == ""
    confirm(client, digest, confirm_personal_data="y")
    db.session.expire_all()
    quote = db.session.get(EvidenceItem, 2)
    assert quote.mappings[0].note == "Mrs Smith said it; call 07700 900123" and quote.personal_data is True


def test_the_register_import_is_listed_among_the_importers():
    assert list(imports.IMPORTERS) == ["survey", "metric", "quote", "register"]


def test_an_export_with_a_chart_for_each_of_thousands_of_metrics_comes_back(client, login, portfolio):
    # A large portfolio's workbook has a chart part per metric: thousands of parts, which other imports refuse.
    login()
    source, bigger = zipfile.ZipFile(io.BytesIO(export(portfolio[3]))), io.BytesIO()
    with zipfile.ZipFile(bigger, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        chart = b'<?xml version="1.0"?><c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart"/>'
        for number in range(3_500):
            target.writestr(f"xl/charts/chart{number + 1000}.xml", chart)
    response = upload(client, "register.xlsx", bigger.getvalue())
    assert response.status_code == 302, text(response)
    assert text(client.get(response.headers["Location"])).count(">Unchanged<") == 3
