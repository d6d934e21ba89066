"""The review queue: only curators; accept (editing first) or return with a reason; the personal data guard."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from evidence.audit import history
from evidence.db import db
from evidence.models import AuditEvent, today
from evidence.vocab import Kind, Role, Status
from tests.conftest import sign_in
from tests.factories import make_item

FORM = {"title": "Carers feel listened to", "source": "SACE", "survey_name": "SACE", "result_percent": "61"}


def submitted(staff, **fields):
    fields.setdefault("survey_name", "SACE")
    fields.setdefault("result_percent", 61.0)
    fields.setdefault("source", "SACE")
    return make_item(
        fields.pop("title", "Carers feel listened to"),
        status=Status.SUBMITTED,
        owner_id=staff.id,
        submitted_by_id=staff.id,
        **fields,
    )


@pytest.fixture
def staff(make_user):
    return make_user(Role.STAFF, name="Pat Submitter")


def test_the_queue_lists_what_waits_with_its_flags(client, login, staff):
    submitted(staff, title="Fresh one")
    submitted(staff, title="Past its date", review_by=today() - timedelta(days=3))
    submitted(staff, title="Has a phone number", summary="Call 020 7946 0958")
    make_item("Already accepted")
    login(Role.QUALITY_LEAD)
    page = client.get("/review").get_data(as_text=True)
    assert "Fresh one" in page and "Past its date" in page and "Already accepted" not in page
    assert page.count('class="tag tag--stale"') == 1
    assert "Possible personal data (1)" in page
    assert "Pat Submitter" in page


def test_accepting_after_editing(client, login, staff):
    item = submitted(staff)
    lead = login(Role.QUALITY_LEAD)
    page = client.get(f"/review/{item.id}").get_data(as_text=True)
    assert 'value="Carers feel listened to"' in page and "Nothing that looks like an email address" in page
    data = {**FORM, "title": "Carers feel listened to (61%)", "version": item.version, "action": "accept"}
    response = client.post(f"/review/{item.id}", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/evidence/{item.id}")
    db.session.refresh(item)
    assert (item.status, item.title, item.reviewed_by_id) == (Status.ACCEPTED, "Carers feel listened to (61%)", lead.id)
    assert item.personal_data is False
    assert "accepted" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_saving_without_accepting_and_bad_edits(client, login, staff):
    item = submitted(staff)
    login(Role.QUALITY_LEAD)
    response = client.post(
        f"/review/{item.id}", data={**FORM, "result_percent": "140", "version": item.version, "action": "accept"}
    )
    assert "Result (%): 140 is out of range" in response.get_data(as_text=True)
    db.session.refresh(item)
    assert item.status == Status.SUBMITTED and item.result_percent == 61.0
    response = client.post(
        f"/review/{item.id}", data={**FORM, "title": "Retitled", "version": item.version, "action": "save"}
    )
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == Status.SUBMITTED and item.title == "Retitled"


def test_an_edit_from_a_stale_page_is_refused(client, login, staff):
    item = submitted(staff)
    login(Role.QUALITY_LEAD)
    old_version = item.version
    client.post(f"/review/{item.id}", data={**FORM, "title": "First", "version": old_version, "action": "save"})
    response = client.post(
        f"/review/{item.id}", data={**FORM, "title": "Second", "version": old_version, "action": "save"}
    )
    assert "changed by someone else while you were editing it" in response.get_data(as_text=True)
    db.session.refresh(item)
    assert item.title == "First"


def test_returning_needs_a_reason_and_the_submitter_sees_it(app, client, login, staff):
    item = submitted(staff)
    login(Role.QUALITY_LEAD)
    response = client.post(f"/review/{item.id}/return", data={"reason": "  "})
    assert "Reason for returning it: say what needs to change" in response.get_data(as_text=True)
    db.session.refresh(item)
    assert item.status == Status.SUBMITTED
    response = client.post(f"/review/{item.id}/return", data={"reason": "Say which survey year this is."})
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == Status.RETURNED and item.return_reason == "Say which survey year this is."
    assert history("evidence_item", item.id)[0].action == "return"

    submitter = app.test_client()
    sign_in(submitter, staff)
    page = submitter.get("/my-submissions").get_data(as_text=True)
    assert "Returned" in page and "Say which survey year this is." in page
    page = submitter.get(f"/evidence/{item.id}").get_data(as_text=True)
    assert "Say which survey year this is." in page and "Correct and resubmit" in page


def test_personal_data_is_shown_and_accepting_it_needs_a_recorded_confirmation(client, login, staff):
    item = submitted(staff, summary="Mrs Jones said her NHS number 943 476 5919 was wrong.")
    lead = login(Role.QUALITY_LEAD)
    page = client.get(f"/review/{item.id}").get_data(as_text=True)
    assert "looks like it holds personal data in 2 places" in page
    assert (
        '<td>Summary</td><td>title and name</td><td><mark>Mrs Jones</mark></td><td class="num">character 1</td>' in page
    )
    assert '<td>NHS number</td><td><mark>943 476 5919</mark></td><td class="num">character 31</td>' in page
    data = {**FORM, "summary": item.summary, "version": item.version, "action": "accept"}

    response = client.post(f"/review/{item.id}", data=data)
    page = response.get_data(as_text=True)
    assert "was not accepted: its text looks like it holds personal data" in page
    assert "tick the box to confirm" in page
    db.session.refresh(item)
    assert item.status == Status.SUBMITTED and not item.personal_data

    response = client.post(f"/review/{item.id}", data={**data, "confirm_personal_data": "y"})
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == Status.ACCEPTED and item.personal_data is True
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "personal_data"))
    assert event.user_id == lead.id and event.entity_id == item.id
    assert "Summary: NHS number “943 476 5919” at character 31" in event.summary
    item_page = client.get(f"/evidence/{item.id}").get_data(as_text=True)
    assert "Holds personal data (confirmed by the reviewer)" in item_page
    assert "Accepted after confirming" in item_page  # the change history shows it


def test_removing_the_personal_data_while_reviewing_needs_no_confirmation(client, login, staff):
    item = submitted(staff, summary="Email jo@example.org for the data.")
    login(Role.QUALITY_LEAD)
    data = {**FORM, "summary": "Ask the carers team for the data.", "version": item.version, "action": "accept"}
    assert client.post(f"/review/{item.id}", data=data).status_code == 302
    db.session.refresh(item)
    assert item.status == Status.ACCEPTED and item.personal_data is False


def test_each_kind_keeps_its_fields_on_the_review_page(client, login, staff):
    item = make_item(
        "Waiting list",
        kind=Kind.METRIC,
        status=Status.SUBMITTED,
        owner_id=staff.id,
        unit="days",
        direction="lower",
        target=28,
    )
    login(Role.QUALITY_LEAD)
    page = client.get(f"/review/{item.id}").get_data(as_text=True)
    assert 'name="unit" type="text" value="days"' in page
    assert (
        'value="lower" checked' in page
        or 'checked id="direction-1" name="direction" type="radio" value="lower"' in page
    )
    assert 'name="target" type="text" value="28"' in page
    assert 'name="review_by"' in page
