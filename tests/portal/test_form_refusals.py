"""A form that fails validation answers 422 Unprocessable Content on every page, and changes nothing;
the submitter is warned about personal data before anything is sent."""

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from evidence.db import db
from evidence.models import AuditEvent, EvidenceItem
from evidence.vocab import Kind, Role, Status
from tests.factories import make_item, make_round

SURVEY = {
    "title": "Carers feel listened to",
    "summary": "Most carers said they were listened to.",
    "source": "Survey of Adult Carers in England",
    "period_start": "2026-04-01",
    "period_end": "2026-06-30",
    "survey_name": "SACE 2026",
    "result_percent": "71",
}


def events() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)))


# (role, how to find the page's address given the fixture's rows, the refused form data)
REFUSED = {
    "submit a finding": (Role.STAFF, lambda ids: "/submit?kind=survey", {"title": ""}),
    "correct a returned item": (Role.STAFF, lambda ids: f"/my-submissions/{ids['returned']}/edit", {"title": ""}),
    "review an item": (Role.QUALITY_LEAD, lambda ids: f"/review/{ids['waiting']}", {"title": "", "action": "accept"}),
    "return an item": (Role.QUALITY_LEAD, lambda ids: f"/review/{ids['waiting']}/return", {"reason": ""}),
    "map an item": (Role.QUALITY_LEAD, lambda ids: f"/evidence/{ids['accepted']}/mappings", {"statement": "nope"}),
    "add a metric value": (Role.QUALITY_LEAD, lambda ids: f"/evidence/{ids['metric']}/points", {"period": "soon"}),
    "upload an import": (Role.QUALITY_LEAD, lambda ids: "/import/survey", {}),
    "create an API token": (Role.STAFF, lambda ids: "/account/tokens", {"name": ""}),
    "change your password": (Role.STAFF, lambda ids: "/account/password", {"current_password": ""}),
    "add a user": (Role.ADMIN, lambda ids: "/admin/users", {"email": "not an address"}),
    "load a framework": (Role.ADMIN, lambda ids: "/admin/framework", {}),
    "sign-in settings": (Role.ADMIN, lambda ids: "/admin/sign-in", {"break_glass_email": "nobody"}),
    "reset a password": (Role.ADMIN, lambda ids: f"/admin/users/{ids['person']}/password", {"how": "temporary"}),
    "start a round": (Role.QUALITY_LEAD, lambda ids: "/rounds", {"name": ""}),
    "score a statement": (
        Role.QUALITY_LEAD,
        lambda ids: f"/statements/safe-pathways/assessment/{ids['round']}",
        {"score": "9"},
    ),
}


@pytest.mark.parametrize("page", list(REFUSED))
def test_a_form_that_fails_validation_answers_422_and_changes_nothing(client, login, make_user, page):
    role, address, data = REFUSED[page]
    user = login(role)
    ids = {
        "round": make_round().id,
        "returned": make_item(
            "Sent back", status=Status.RETURNED, owner_id=user.id, submitted_by_id=user.id, return_reason="Say more."
        ).id,
        "waiting": make_item("Waiting", status=Status.SUBMITTED).id,
        "accepted": make_item("Accepted").id,
        "metric": make_item("Waits", kind=Kind.METRIC, direction="lower").id,
        "person": make_user(Role.STAFF).id,
    }
    before = events()
    response = client.post(address(ids), data=data, content_type="multipart/form-data")
    assert response.status_code == 422, (page, response.status_code)
    assert events() == before, page


def test_an_empty_sign_in_form_answers_422(client):
    response = client.post("/sign-in", data={"email": "", "password": ""})
    assert response.status_code == 422 and "Enter your email address." in response.get_data(as_text=True)


# --- Personal data, seen by the submitter --------------------------------------------------------------


def test_the_submitter_is_warned_about_personal_data_before_sending(client, login):
    login(Role.STAFF)
    data = {**SURVEY, "summary": "Mrs Patel said call her on 07700 900123 if anything changes."}
    warned = client.post("/submit?kind=survey", data=data)
    page = warned.get_data(as_text=True)
    assert warned.status_code == 422
    assert "Check for personal data before you send this" in page
    assert "title and name" in page and "Mrs Patel" in page and "UK phone number" in page
    assert db.session.scalar(select(func.count(EvidenceItem.id))) == 0  # nothing sent yet

    # Removing it sends the finding.
    cleaned = client.post("/submit?kind=survey", data={**SURVEY, "summary": "A carer asked to be kept informed."})
    assert cleaned.status_code == 302
    assert db.session.scalar(select(func.count(EvidenceItem.id))) == 1


def test_the_submitter_may_send_flagged_text_having_checked_it(client, login):
    login(Role.STAFF)
    data = {**SURVEY, "source": "Carers' team, carers.team@example-council.gov.uk", "personal_data_checked": "y"}
    response = client.post("/submit?kind=survey", data=data)
    assert response.status_code == 302
    item = db.session.scalar(select(EvidenceItem))
    # The lead still sees the flag and decides.
    assert item.status == Status.SUBMITTED
    assert "carers.team@example-council.gov.uk" in item.source


def test_a_flagged_submission_asks_for_its_file_again(client, login):
    login(Role.STAFF)
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    data = {**SURVEY, "summary": "Ring 020 7946 0018.", "file": (io.BytesIO(pdf), "carers.pdf")}
    response = client.post("/submit?kind=survey", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Your file was not kept: choose it again before you send." in response.get_data(as_text=True)


def test_a_returned_item_is_checked_for_personal_data_on_resubmission(client, login):
    staff = login(Role.STAFF)
    item = make_item(
        "Sent back",
        status=Status.RETURNED,
        owner_id=staff.id,
        submitted_by_id=staff.id,
        return_reason="Add who said it.",
        survey_name="SACE",
        result_percent=70,
        period_start=date(2026, 4, 1),
    )
    data = {**SURVEY, "summary": "As Dr Okafor told us.", "version": item.version}
    response = client.post(f"/my-submissions/{item.id}/edit", data=data)
    assert response.status_code == 422 and "Dr Okafor" in response.get_data(as_text=True)
    db.session.refresh(item)
    assert item.status == Status.RETURNED


def test_staff_are_not_told_to_cite_evidence_they_cannot_cite(app, client, login, make_user):
    staff = login(Role.STAFF)
    mine = make_item("Mine", owner_id=staff.id, submitted_by_id=staff.id)
    page = client.get(f"/evidence/{mine.id}").get_data(as_text=True)
    assert "rationale" not in page
    lead = app.test_client()
    from tests.conftest import sign_in

    sign_in(lead, make_user(Role.QUALITY_LEAD))
    assert f"Cite it by writing [{mine.reference}]" in lead.get(f"/evidence/{mine.id}").get_data(as_text=True)
