"""The import pages: who may use them, templates, upload, preview and confirm in the browser's order."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from evidence import imports
from evidence.db import db
from evidence.models import AuditEvent, EvidenceItem, MetricPoint
from evidence.vocab import Kind, Status
from tests import jobs
from tests.factories import make_item

SURVEY_HEADER = ["Survey name", "Question", "Result", "Respondents", "Period start", "Quality statement", "Category"]


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_file(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


GOOD_SURVEY = [
    SURVEY_HEADER,
    ["ASCS 2025-26", "Do you feel safe?", "0.72", "390", "2026-01-05", "Safeguarding", "People's experience"],
    ["ASCS 2025-26", "Do services help you feel in control?", "61%", "412", "05/01/2026", "", ""],
]


def upload(client, kind: str, name: str, data: bytes):
    return client.post(f"/import/{kind}", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def digest_of(answer) -> str:
    """The upload's digest in the address of its preview (an answer that redirects there, or the address)."""
    location = answer if isinstance(answer, str) else answer.headers["Location"]
    match = re.search(r"/preview/([0-9a-f]{64})", location)
    assert match, location
    return match.group(1)


def to_preview(client, answer) -> str:
    """Follow an upload's answer to its preview, through the job that checks a large file: its address."""
    location = answer.headers["Location"]
    if "/jobs/" in location:
        state = jobs.wait_for(client, jobs.job_id_of(answer))
        assert state["state"] == "done", state
        assert state["download"] is None  # a check's file is its preview, shown by the import's own page
        location = client.get(location).headers["Location"]
    assert "/preview/" in location, location
    return location


def item_count() -> int:
    return db.session.scalar(select(func.count(EvidenceItem.id)))


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"]) / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


# --- Who may import ---


@pytest.mark.parametrize("role", ["quality_lead", "admin"])
def test_the_import_page_lists_each_kind_with_templates(client, login, role):
    login(role)
    page = client.get("/import").get_data(as_text=True)
    for kind, label in (("survey", "Survey findings"), ("metric", "Metric points"), ("quote", "Quotes")):
        assert label in page
        assert f"/import/{kind}/template.xlsx" in page and f"/import/{kind}/template.csv" in page
    assert 'href="/import"' in page  # the navigation offers the import to curators


def test_a_kind_page_explains_the_columns_and_the_percent_rule(client, login):
    login()
    page = client.get("/import/survey").get_data(as_text=True)
    for heading in ("Survey name", "Question", "Result", "Respondents", "Period start", "Quality statement"):
        assert heading in page
    assert "61%, 61 or 0.61" in page and "read as a fraction" in page
    metric_page = client.get("/import/metric").get_data(as_text=True)
    assert "2026 Q3" in metric_page and "E-12" in metric_page
    assert client.get("/import/nonsense").status_code == 404


# --- Templates ---


@pytest.mark.parametrize("kind", ["survey", "metric", "quote"])
def test_template_downloads_open_with_the_right_headings(client, login, kind):
    login()
    headings = [c.name for c in imports.get_importer(kind).columns]
    response = client.get(f"/import/{kind}/template.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in workbook.worksheets[0][1]] == headings
    assert workbook.sheetnames[1] == "Notes"

    response = client.get(f"/import/{kind}/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert next(csv.reader(io.StringIO(response.data.decode("utf-8-sig")))) == headings
    assert client.get(f"/import/{kind}/template.pdf").status_code == 404


# --- Upload, preview, confirm ---


@pytest.mark.parametrize(("name", "builder"), [("survey.xlsx", xlsx), ("survey.csv", csv_file)])
def test_upload_preview_and_confirm_a_good_file(app, client, login, name, builder):
    user = login()
    response = upload(client, "survey", name, builder(GOOD_SURVEY))
    assert response.status_code == 302
    digest = digest_of(response)
    assert item_count() == 0  # uploading writes nothing

    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert name in page and "2 to create" in page
    assert "Do you feel safe?" in page and "72%" in page and "Import 2 rows" in page
    assert item_count() == 0  # previewing writes nothing

    response = client.post("/import/survey/confirm", data={"digest": digest}, follow_redirects=True)
    assert response.status_code == 200
    assert "2 created, 0 updated" in response.get_data(as_text=True)
    items = db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)).all()
    assert [(i.kind, i.status, i.owner_id) for i in items] == [(Kind.SURVEY, Status.ACCEPTED, user.id)] * 2
    assert [i.result_percent for i in items] == [72, 61]
    assert stored_files(app) == []  # the waiting upload is cleared once imported
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "import"))
    assert event.user_id == user.id and name in event.summary


def test_uploading_the_same_file_again_shows_it_up_to_date(client, login):
    login()
    data = csv_file(GOOD_SURVEY)
    client.post("/import/survey/confirm", data={"digest": digest_of(upload(client, "survey", "s.csv", data))})
    assert item_count() == 2

    response = upload(client, "survey", "s.csv", data)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "0 to create, 0 to update, 2 already up to date" in page
    assert "already in the portfolio" in page
    done = client.post("/import/survey/confirm", data={"digest": digest_of(response)}, follow_redirects=True)
    assert "Nothing changed" in done.get_data(as_text=True)
    assert item_count() == 2


def test_a_metric_update_is_shown_as_an_update(client, login):
    login()
    metric = make_item("Waiting list", kind=Kind.METRIC, unit="people")
    metric.points.append(MetricPoint(period=date(2026, 8, 1), label="Aug 2026", value=40))
    db.session.commit()
    data = csv_file(
        [["Metric", "Period", "Value"], [metric.reference, "Aug 2026", "44"], [metric.reference, "2026-09", "41"]]
    )
    response = upload(client, "metric", "m.csv", data)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Update" in page and "Aug 2026: 40 people → 44 people" in page
    assert "1 point to add, 1 to update" in page
    client.post("/import/metric/confirm", data={"digest": digest_of(response)})
    db.session.expire_all()
    assert sorted(p.value for p in db.session.get(EvidenceItem, metric.id).points) == [41, 44]


def test_a_file_with_errors_lists_them_by_row_and_cannot_be_confirmed(client, login):
    login()
    rows = [
        SURVEY_HEADER,
        ["ASCS", "Fine question", "61%", "10", "2026-01-05", "", ""],
        ["ASCS", "", "120%", "many", "someday", "Safegarding", "Processes"],
    ]
    response = upload(client, "survey", "bad.xlsx", xlsx(rows))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "5 problems in 1 row" in page and "nothing can be imported yet" in page
    for reason in ("Missing value", "Percentage over 100", "Not a whole number", "Date does not parse"):
        assert reason in page
    assert "Unknown quality statement" in page and "Safegarding" in page
    assert "Import 1 row" not in page and "Upload the corrected file" in page

    # Posting the confirmation anyway writes nothing: the file is validated again.
    done = client.post("/import/survey/confirm", data={"digest": digest_of(response)}, follow_redirects=True)
    assert "Nothing was imported" in done.get_data(as_text=True)
    assert item_count() == 0


def test_confirm_validates_the_kept_file_again(app, client, login):
    login()
    response = upload(client, "survey", "s.csv", csv_file(GOOD_SURVEY))
    digest = digest_of(response)
    # Someone swaps the waiting file for another: it no longer matches its hash and is not imported.
    (Path(app.config["UPLOAD_DIR"]) / "imports" / digest).write_bytes(csv_file([SURVEY_HEADER, GOOD_SURVEY[1]]))
    done = client.post("/import/survey/confirm", data={"digest": digest}, follow_redirects=True)
    assert "Upload the file again" in done.get_data(as_text=True)
    assert item_count() == 0

    for bad in ("../../etc/passwd", "0" * 64, ""):
        client.post("/import/survey/confirm", data={"digest": bad})
    assert client.get("/import/survey/preview/" + "0" * 64).status_code == 404
    assert item_count() == 0


def test_a_survey_file_uploaded_as_quotes_asks_which_column_is_which_naming_missing_columns(client, login):
    login()
    response = upload(client, "quote", "s.csv", csv_file(GOOD_SURVEY))
    assert response.status_code == 302 and "/import/quote/columns/" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert "missing the columns Quote, Speaker role, Voice, Tone" in page
    assert client.get(response.location.replace("/columns/", "/preview/")).location.endswith(response.location)
    assert item_count() == 0


def test_personal_data_needs_an_explicit_confirmation(client, login):
    login()
    rows = [["Quote", "Speaker role", "Voice", "Tone"], ["Ring Mr Jones on 07700 900123", "Carer", "carer", "barrier"]]
    response = upload(client, "quote", "q.csv", csv_file(rows))
    digest = digest_of(response)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Possible personal data" in page and "title and name" in page
    refused = client.post("/import/quote/confirm", data={"digest": digest}, follow_redirects=True)
    assert "looks like personal data" in refused.get_data(as_text=True)
    assert item_count() == 0
    client.post("/import/quote/confirm", data={"digest": digest, "confirm_personal_data": "y"})
    item = db.session.scalar(select(EvidenceItem))
    assert item.personal_data is True


# --- Files that are not what they claim ---


def test_random_bytes_named_xlsx_are_refused_with_a_clear_message(app, client, login):
    login()
    response = upload(client, "survey", "figures.xlsx", os.urandom(2048).replace(b"PK", b"pk"))
    assert response.status_code == 422
    assert "not an Excel workbook" in response.get_data(as_text=True)
    assert stored_files(app) == [] and item_count() == 0


def test_a_zip_bomb_upload_is_refused(app, client, login):
    login()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (8 * 1024 * 1024))
    response = upload(client, "survey", "bomb.xlsx", buffer.getvalue())
    assert response.status_code == 422
    assert "zip bomb" in response.get_data(as_text=True)
    assert stored_files(app) == []


def test_an_upload_over_the_size_limit_is_refused(app, client, login):
    login()
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    response = upload(client, "survey", "huge.csv", b"x" * 60_000)
    assert response.status_code == 413
    assert "at most" in response.get_data(as_text=True)
    assert stored_files(app) == []


def test_an_upload_without_a_file_says_so(client, login):
    login()
    response = client.post("/import/survey", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose an .xlsx or .csv file" in response.get_data(as_text=True)


def test_the_stored_file_is_named_by_its_hash(app, client, login):
    login()
    data = csv_file(GOOD_SURVEY)
    digest = digest_of(upload(client, "survey", "s.csv", data))
    assert digest == hashlib.sha256(data).hexdigest()
    assert (Path(app.config["UPLOAD_DIR"]) / "imports" / digest).read_bytes() == data
