"""Submit a finding (each kind, through the browser's form) and follow it in "My submissions"."""

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from evidence.db import db
from evidence.models import Attachment, EvidenceItem, today
from evidence.vocab import Kind, Role, Status
from tests import office_samples
from tests.conftest import sign_in
from tests.factories import make_item

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
COMMON = {
    "title": "A finding",
    "summary": "What it shows.",
    "source": "Adult social care",
    "period_start": "2026-04-01",
    "period_end": "2026-06-30",
}
# What each kind's form is given, and what the saved item must then hold.
KINDS = {
    Kind.SURVEY: (
        {
            "survey_name": "ASCS",
            "question": "Q3a",
            "respondents": "1,204",
            "result_percent": "61%",
            "population": "LTS",
        },
        {"survey_name": "ASCS", "respondents": 1204, "result_percent": 61.0, "population": "LTS"},
    ),
    Kind.METRIC: (
        {
            "unit": "%",
            "direction": "higher",
            "target": "80",
            "point_period_0": "2026 Q1",
            "point_value_0": "70",
            "point_period_1": "2026-04",
            "point_value_1": "71.5",
            "point_period_2": "May 2026",
            "point_value_2": "74",
        },
        {"unit": "%", "direction": "higher", "target": 80.0},
    ),
    Kind.QUOTE: (
        {"quote_text": "They listened.", "speaker_role": "Carer 2", "voice": "carer", "quote_tone": "facilitator"},
        {"quote_text": "They listened.", "speaker_role": "Carer 2", "voice": "carer", "quote_tone": "facilitator"},
    ),
    Kind.DOCUMENT: (
        {"link_url": "https://council.example/policy", "evidences": "How transitions are planned"},
        {"link_url": "https://council.example/policy", "evidences": "How transitions are planned"},
    ),
    Kind.PARTNER_FEEDBACK: (
        {"partner_organisation": "Integrated care board", "feedback_method": "Partnership board"},
        {"partner_organisation": "Integrated care board", "feedback_method": "Partnership board"},
    ),
    Kind.CASE_AUDIT: (
        {"cases_reviewed": "40", "audit_outcome": "Most plans were reviewed on time."},
        {"cases_reviewed": 40, "audit_outcome": "Most plans were reviewed on time."},
    ),
    Kind.OBSERVATION: (
        {"setting": "Discharge huddle", "observer_role": "Principal social worker"},
        {"setting": "Discharge huddle", "observer_role": "Principal social worker"},
    ),
}


def only_item() -> EvidenceItem:
    (item,) = db.session.scalars(select(EvidenceItem)).all()
    return item


def item_count() -> int:
    return db.session.scalar(select(func.count(EvidenceItem.id)))


def test_the_kind_is_chosen_with_plain_links(client, login):
    login(Role.STAFF)
    page = client.get("/submit").get_data(as_text=True)
    for kind in Kind:
        assert f'href="/submit?kind={kind.value}"' in page
        assert kind.label in page
    assert "<script>" not in page
    assert "is not a kind of finding" in client.get("/submit?kind=rumour", follow_redirects=True).get_data(True)


@pytest.mark.parametrize("kind", list(Kind))
def test_each_kind_is_submitted_then_accepted(app, client, login, make_user, kind):
    staff = login(Role.STAFF)
    form, saved = KINDS[kind]
    page = client.get(f"/submit?kind={kind.value}").get_data(as_text=True)
    for name in form:
        assert f'name="{name}"' in page, name
    response = client.post(
        f"/submit?kind={kind.value}", data={**COMMON, **form, "suggested_statements": ["safe-pathways"]}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/my-submissions")
    item = only_item()
    assert (item.kind, item.status, item.owner_id) == (kind, Status.SUBMITTED, staff.id)
    assert item.period_start == date(2026, 4, 1) and item.period_end == date(2026, 6, 30)
    assert item.suggested_statements == ["safe-pathways"]
    for name, value in saved.items():
        assert getattr(item, name) == value, name
    if kind == Kind.METRIC:
        assert [(p.label, p.value) for p in item.points] == [("2026 Q1", 70.0), ("Apr 2026", 71.5), ("May 2026", 74.0)]
    mine = client.get("/my-submissions").get_data(as_text=True)
    assert "A finding" in mine and "Submitted" in mine

    lead = app.test_client()
    sign_in(lead, make_user(Role.QUALITY_LEAD))
    response = lead.post(f"/review/{item.id}", data={**COMMON, **form, "version": item.version, "action": "accept"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(item)
    assert item.status == Status.ACCEPTED
    assert "Accepted" in client.get("/my-submissions").get_data(as_text=True)


# Bad input for each kind, and the messages that must name each problem.
BAD_INPUT = [
    (
        Kind.SURVEY,
        {"title": "", "source": "", "survey_name": "", "result_percent": "150", "respondents": "-2"},
        [
            "Title: give the finding a short title.",
            "Source: say who or what it comes from.",
            "Survey name: name the survey.",
            "Result (%): 150 is out of range; enter a percentage like 61 or 61% from 0 to 100.",
            "Respondents (n): -2 is out of range; enter a whole number, 0 or more.",
        ],
    ),
    (
        Kind.SURVEY,
        {"result_percent": "most", "respondents": "12.5", "period_start": "31/31/2026", "period_end": ""},
        [
            "Result (%): “most” is not a percentage like 61 or 61% from 0 to 100.",
            "Respondents (n): “12.5” is not a whole number, 0 or more.",
            "Period start: “31/31/2026” is not a date; enter it like 2026-04-01.",
        ],
    ),
    (
        Kind.SURVEY,
        {"result_percent": "61", "period_start": "2026-06-30", "period_end": "2026-04-01"},
        ["Period end: 1 Apr 2026 is before the period start (30 Jun 2026)"],
    ),
    (
        Kind.METRIC,
        {"point_period_0": "2026-13", "point_value_0": "5", "point_period_1": "2026 Q2", "point_value_1": ""},
        [
            "Direction: say whether a higher or a lower value is better.",
            "Period 1: “2026-13” is not a period the portal understands",
            "Value 2: enter the value for 2026 Q2.",
        ],
    ),
    (
        Kind.METRIC,
        {"direction": "lower", "point_period_0": "2026 Q1", "point_value_0": "5", "point_period_2": "2026-01"},
        ["Period 3: Jan 2026 is already given in row 1.", "Value 3: enter the value for Jan 2026."],
    ),
    (Kind.METRIC, {"direction": "higher"}, ["Period 1: give at least one period and its value"]),
    (
        Kind.METRIC,
        {"direction": "up", "unit": "%", "target": "120", "point_period_0": "2026-01"},
        ["Direction: say whether", "Target: 120 is not a percentage between 0 and 100."],
    ),
    (
        Kind.QUOTE,
        {"quote_text": "", "speaker_role": "", "quote_tone": "angry"},
        [
            "Quote: enter the words said.",
            "Speaker&#39;s role: give the speaker",
            "Whose voice: choose whose voice it is.",
            "Barrier or facilitator: choose barrier, facilitator or neutral.",
        ],
    ),
    (
        Kind.DOCUMENT,
        {"evidences": "", "link_url": "ftp://x"},
        [
            "What it evidences: say what the document shows.",
            "Link: enter a full web address starting with https://.",
        ],
    ),
    (Kind.DOCUMENT, {"evidences": "Our policy"}, ["File: attach the document or give a link to it."]),
    (Kind.PARTNER_FEEDBACK, {"partner_organisation": ""}, ["Partner organisation: name the partner organisation."]),
    (
        Kind.CASE_AUDIT,
        {"cases_reviewed": "0", "audit_outcome": ""},
        ["Cases reviewed: 0 is out of range", "Audit outcome: say what the audit found."],
    ),
    (Kind.OBSERVATION, {"setting": ""}, ["Setting: say where it was observed."]),
    (Kind.SURVEY, {"suggested_statements": ["not-a-statement"]}, ["“not-a-statement” is not a quality statement"]),
]


def test_bad_input_is_named_and_nothing_is_saved(client, login):
    login(Role.STAFF)
    for kind, data, messages in BAD_INPUT:
        form = {**COMMON, "title": "Kept title", **data}
        response = client.post(f"/submit?kind={kind.value}", data=form)
        assert response.status_code == 422, (kind, data)
        page = response.get_data(as_text=True)
        assert "There is a problem" in page, (kind, data)
        for message in messages:
            assert message in page, (kind, message)
        assert item_count() == 0, (kind, data)
        if form["title"]:
            assert 'value="Kept title"' in page, (kind, data)  # the user's input is kept


def test_a_file_is_stored_by_its_content_hash_and_its_name_kept(app, client, login, tmp_path):
    login(Role.STAFF)
    data = {
        **COMMON,
        "evidences": "Our transitions policy",
        "file": (io.BytesIO(PDF), "Transitions policy (final).pdf"),
    }
    response = client.post("/submit?kind=document", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    (attachment,) = only_item().attachments
    assert attachment.original_name == "Transitions policy (final).pdf"
    assert attachment.content_type == "application/pdf" and attachment.size == len(PDF)
    stored = [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [attachment.sha256]
    assert stored[0].read_bytes() == PDF


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "report.pdf",
            b"MZ\x90\x00\x03" + b"\x00" * 300,
            "“report.pdf” is named as a PDF but its content is a .exe file",
        ),
        ("report.pdf", bytes(range(256)) * 4, "“report.pdf” is named as a PDF but its content is"),
        ("run.exe", PDF, "“run.exe” is not a file type the portal accepts. Upload a PDF, DOCX, XLSX, CSV, PNG or JPEG"),
    ],
)
def test_a_disguised_file_is_refused_with_a_clear_message_and_nothing_saved(
    app, client, login, tmp_path, name, content, message
):
    login(Role.STAFF)
    data = {**COMMON, "survey_name": "ASCS", "result_percent": "61", "file": (io.BytesIO(content), name)}
    response = client.post("/submit?kind=survey", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "choose the file again" in page
    assert item_count() == 0
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert not (tmp_path / "uploads").exists() or not any(p.is_file() for p in (tmp_path / "uploads").rglob("*"))


def test_an_oversized_upload_is_answered_413_and_nothing_saved(app, client, login):
    login(Role.STAFF)
    app.config["MAX_CONTENT_LENGTH"] = 10 * 1024
    data = {**COMMON, "survey_name": "ASCS", "result_percent": "61", "file": (io.BytesIO(PDF + b"0" * 20_000), "a.pdf")}
    response = client.post("/submit?kind=survey", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Files can be at most" in response.get_data(as_text=True)
    assert item_count() == 0


def test_my_submissions_shows_status_the_return_reason_and_staleness(client, login, make_user):
    staff = login(Role.STAFF)
    make_item("Waiting one", status=Status.SUBMITTED, owner_id=staff.id)
    make_item(
        "Sent back", status=Status.RETURNED, owner_id=staff.id, return_reason="Remove the carer's first name please."
    )
    make_item("Old figure", status=Status.ACCEPTED, owner_id=staff.id, review_by=today() - timedelta(days=1))
    make_item("Someone else's", status=Status.SUBMITTED, owner_id=make_user(Role.STAFF).id)
    page = client.get("/my-submissions").get_data(as_text=True)
    assert "Waiting one" in page and "Sent back" in page and "Old figure" in page
    assert "Someone else&#39;s" not in page
    assert "Remove the carer&#39;s first name please." in page
    assert 'class="tag tag--returned"' in page and 'class="tag tag--submitted"' in page
    assert page.count('class="tag tag--stale"') == 1
    assert "Correct and resubmit" in page


def test_staff_land_on_their_submissions(client, login):
    login(Role.STAFF)
    assert client.get("/").headers["Location"].endswith("/my-submissions")


def test_a_returned_item_is_corrected_and_resubmitted(client, login, make_user):
    staff = login(Role.STAFF)
    item = make_item(
        "Sent back",
        kind=Kind.METRIC,
        status=Status.RETURNED,
        owner_id=staff.id,
        submitted_by_id=staff.id,
        direction="higher",
        return_reason="Add the June value.",
        points=[(date(2026, 4, 1), "Apr 2026", 60), (date(2026, 5, 1), "May 2026", 62)],
    )
    page = client.get(f"/my-submissions/{item.id}/edit").get_data(as_text=True)
    assert "Add the June value." in page and 'value="Apr 2026"' in page and 'value="May 2026"' in page
    data = {
        "title": "Sent back, corrected",
        "source": "LAS",
        "direction": "higher",
        "version": item.version,
        "point_period_0": "Apr 2026",
        "point_value_0": "60",
        "point_period_1": "May 2026",
        "point_value_1": "62",
        "point_period_2": "Jun 2026",
        "point_value_2": "65",
    }
    response = client.post(f"/my-submissions/{item.id}/edit", data=data)
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == Status.SUBMITTED and item.return_reason is None and item.title == "Sent back, corrected"
    assert [p.label for p in item.points] == ["Apr 2026", "May 2026", "Jun 2026"]
    # Once resubmitted it cannot be edited here again until it is returned.
    assert client.get(f"/my-submissions/{item.id}/edit").status_code == 302


def test_nobody_else_can_edit_a_returned_item(app, client, login, make_user):
    owner = make_user(Role.STAFF)
    item = make_item("Theirs", status=Status.RETURNED, owner_id=owner.id, return_reason="x")
    login(Role.STAFF)
    assert client.get(f"/my-submissions/{item.id}/edit").status_code == 404
    assert client.post(f"/my-submissions/{item.id}/edit", data={"title": "Mine now"}).status_code == 404
    db.session.refresh(item)
    assert item.title == "Theirs"


@pytest.mark.parametrize("case", list(office_samples.HOSTILE))
def test_an_office_file_that_is_not_what_it_claims_is_refused_and_nothing_saved(app, client, login, tmp_path, case):
    name, content, says = office_samples.HOSTILE[case]
    login(Role.STAFF)
    data = {**COMMON, "evidences": "Our transitions policy", "file": (io.BytesIO(content()), name)}
    response = client.post("/submit?kind=document", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"File: “{name}”" in page and says in page
    assert item_count() == 0
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert not (tmp_path / "uploads").exists() or not any(p.is_file() for p in (tmp_path / "uploads").rglob("*"))


@pytest.mark.parametrize(
    ("name", "content"), [("policy.docx", office_samples.real_docx), ("figures.xlsx", office_samples.real_xlsx)]
)
def test_a_real_office_file_is_attached(client, login, tmp_path, name, content):
    login(Role.STAFF)
    data = {**COMMON, "evidences": "Our transitions policy", "file": (io.BytesIO(content()), name)}
    response = client.post("/submit?kind=document", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    (attachment,) = only_item().attachments
    assert attachment.original_name == name
    assert [p.name for p in (tmp_path / "uploads").rglob("*") if p.is_file()] == [attachment.sha256]
