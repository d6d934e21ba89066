"""The Exports page: choose, see the checks, download or stop; the statement preview; who may do it."""

from __future__ import annotations

import hashlib
import re
import sys
import zipfile
from io import BytesIO

import docx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from evidence.db import db
from evidence.models import AuditEvent
from evidence.vocab import Kind, Role
from tests import jobs
from tests.exports.test_workbook import build_round, sign_off
from tests.factories import make_item, make_round


@pytest.fixture
def built(app):
    data = build_round()
    make_item(
        "Carer feedback from the drop-in",
        Kind.PARTNER_FEEDBACK,
        summary="Contact jane.doe@example.com about the case.",
        mappings=[("partnerships", "partners", "context")],
    )
    return data


def exports_logged() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")))


def test_the_page_offers_every_round_and_both_formats(client, login, built):
    make_round("Spring 2027 self-assessment")
    login(Role.MANAGER)
    page = client.get("/exports")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1" in html and "Exports" in html
    assert "Winter 2026 self-assessment (open)" in html and "Spring 2027 self-assessment (open)" in html
    assert "Excel workbook (.xlsx)" in html and "Markdown pack (.zip)" in html
    assert 'data-testid="checks"' not in html  # nothing is checked until a round is chosen


def test_choosing_shows_the_personal_data_and_gaps_checks_before_anything_is_made(client, login, built):
    login(Role.MANAGER)
    page = client.get(f"/exports?round={built['round'].id}&format=xlsx")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="checks"' in html
    assert "look like personal data" in html or "looks like personal data" in html
    assert "jane.doe@example.com" in html and "email address" in html
    assert "No accepted evidence under People&#39;s experience." in html  # a gap
    assert "Go on and download the Excel workbook (.xlsx)" in html
    assert 'href="/exports"' in html and ">Stop</a>" in html
    assert f'name="round" type="hidden" value="{built["round"].id}"' in html
    assert exports_logged() == []  # looking at the checks exports nothing


def test_download_gives_the_workbook_with_a_sensible_name_and_logs_it(client, login, built):
    manager = login(Role.MANAGER)
    response = jobs.export(client, built["round"].id, "xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and "assure-winter-2026-self-assessment.xlsx" in disposition
    workbook = load_workbook(BytesIO(response.data))
    assert workbook.sheetnames[0] == "Summary"
    [event] = exports_logged()
    assert event.entity_type == "round" and event.entity_id == built["round"].id
    assert event.user_id == manager.id
    assert event.after["format"] == "xlsx" and event.after["file"] == "assure-winter-2026-self-assessment.xlsx"
    assert "Exported" in event.summary


def test_download_gives_the_markdown_pack(client, login, built):
    login(Role.QUALITY_LEAD)
    response = jobs.export(client, built["round"].id, "markdown")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "assure-winter-2026-self-assessment.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(BytesIO(response.data)) as archive:
        assert "README.md" in archive.namelist() and "MANIFEST.txt" in archive.namelist()


def test_a_signed_off_round_downloads_the_same_bytes_twice(client, login, built):
    sign_off(built["round"])
    login(Role.MANAGER)
    first = jobs.export(client, built["round"].id, "xlsx").data
    second = jobs.export(client, built["round"].id, "xlsx").data
    assert first == second
    page = client.get(f"/exports?round={built['round'].id}&format=markdown").get_data(as_text=True)
    assert "made from the record kept at sign-off" in page


def test_bad_choices_change_nothing_and_say_why(client, login, built):
    login(Role.MANAGER)
    page = client.get("/exports?round=999999&format=xlsx")
    assert page.status_code == 422
    assert "Not a valid choice" in page.get_data(as_text=True)
    response = client.post("/exports/download", data={"round": 999999, "format": "xlsx"}, follow_redirects=True)
    assert "Nothing was exported" in response.get_data(as_text=True)
    response = client.post("/exports/download", data={"round": built["round"].id, "format": "odt"})
    assert response.status_code == 302
    assert exports_logged() == []


def test_a_page_with_no_rounds_says_so(client, login, app):
    login(Role.ADMIN)
    html = client.get("/exports").get_data(as_text=True)
    assert "There is no self-assessment round to export yet." in html


def test_preview_renders_the_statement_document_as_sanitised_html(client, login, built):
    login(Role.MANAGER)
    page = client.get(f"/exports/preview/{built['round'].id}/safe-pathways")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Safe pathways, systems and transitions</h1>" in html
    assert "<h2>Score: 3</h2>" in html and "<h2>Evidence cited</h2>" in html
    assert "<blockquote>" in html and "— Participant 2, staff · barrier" in html
    assert f'class="citation" href="/evidence/{built["metric"].id}">[{built["metric"].reference}]</a>' in html
    hostile = client.get(f"/exports/preview/{built['round'].id}/equity").get_data(as_text=True)
    assert "<script>alert" not in hostile
    assert client.get(f"/exports/preview/{built['round'].id}/no-such-statement").status_code == 404
    assert client.get("/exports/preview/999999/equity").status_code == 404


@pytest.mark.parametrize("role", [Role.STAFF])
def test_staff_cannot_export_or_preview(client, login, built, role):
    login(role)
    assert client.get("/exports").status_code == 403
    assert client.post("/exports/download", data={"round": built["round"].id, "format": "xlsx"}).status_code == 403
    assert client.get(f"/exports/preview/{built['round'].id}/equity").status_code == 403
    assert exports_logged() == []


def test_signed_out_visitors_are_sent_to_sign_in(client, built):
    response = client.get("/exports")
    assert response.status_code == 302 and "sign-in" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.QUALITY_LEAD, Role.MANAGER])
def test_readers_reach_the_page(client, login, built, role):
    login(role)
    assert client.get("/exports").status_code == 200


def test_the_page_offers_the_word_document_and_the_pdf(client, login, built):
    login(Role.MANAGER)
    html = client.get("/exports").get_data(as_text=True)
    labels = re.findall(r'<label for="format-\d">([^<]+)</label>', html)
    assert labels == ["Excel workbook (.xlsx)", "Word document (.docx)", "PDF document (.pdf)", "Markdown pack (.zip)"]
    page = client.get(f"/exports?round={built['round'].id}&format=pdf").get_data(as_text=True)
    assert "Go on and download the PDF document (.pdf)" in page and "jane.doe@example.com" in page


@pytest.mark.parametrize(
    "fmt, mimetype, extension",
    [
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
        ("pdf", "application/pdf", ".pdf"),
    ],
)
def test_download_gives_the_word_document_and_the_pdf(client, login, built, fmt, mimetype, extension):
    manager = login(Role.MANAGER)
    response = jobs.export(client, built["round"].id, fmt)
    assert response.status_code == 200 and response.mimetype == mimetype
    assert f"assure-winter-2026-self-assessment{extension}" in response.headers["Content-Disposition"]
    if fmt == "docx":
        names = [p.text for p in docx.Document(BytesIO(response.data)).paragraphs if p.style.name == "Heading 1"]
        assert names[1:3] == ["Assessing needs", "Supporting people to live healthier lives"]
    else:
        reader = PdfReader(BytesIO(response.data))
        assert response.data.startswith(b"%PDF-") and len(reader.pages) >= 10
    [event] = exports_logged()
    assert event.user_id == manager.id and event.after["format"] == fmt
    assert event.after["sha256"] == hashlib.sha256(response.data).hexdigest()


def test_a_pdf_without_pango_says_what_is_missing_and_exports_nothing(client, login, built, monkeypatch):
    login(Role.MANAGER)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if WeasyPrint or Pango were missing
    job_id = jobs.job_id_of(client.post("/exports/download", data={"round": built["round"].id, "format": "pdf"}))
    state = jobs.wait_for(client, job_id)
    assert state["state"] == "failed" and state["download"] is None
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Nothing was exported: the PDF needs WeasyPrint and the Pango library" in page
    assert "Retry" in page
    assert exports_logged() == []
