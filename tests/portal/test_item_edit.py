"""An accepted item is edited on a page of its own; the review page is for submissions."""

from __future__ import annotations

import re
from datetime import date

import pytest

from evidence.db import db
from evidence.history import history
from evidence.vocab import Kind, Role, Status
from tests.factories import make_item


@pytest.fixture
def accepted(app):
    return make_item(
        "Carers feel listened to",
        survey_name="Survey of Adult Carers",
        result_percent=55.0,
        respondents=412,
        suggested_statements=["safe-pathways"],
    )


def _form(item, **changes) -> dict:
    data = {
        "title": item.title,
        "summary": item.summary,
        "source": item.source,
        "period_start": item.period_start.isoformat(),
        "period_end": item.period_end.isoformat(),
        "review_by": item.review_by.isoformat(),
        "survey_name": item.survey_name,
        "result_percent": str(item.result_percent),
        "respondents": str(item.respondents),
        "version": str(item.version),
    }
    data.update(changes)
    return data


def test_the_edit_page_is_titled_for_editing_and_leads_back_to_the_item(client, login, accepted):
    login(Role.QUALITY_LEAD)
    page = client.get(f"/evidence/{accepted.id}").get_data(as_text=True)
    assert f'href="/evidence/{accepted.id}/edit">Edit</a>' in page
    response = client.get(f"/evidence/{accepted.id}/edit")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"<title>Edit {accepted.reference}: Carers feel listened to · Assure</title>" in html
    assert "Back to its page" in html and "Back to the queue" not in html
    assert "Return to the submitter" not in html and "Accept</button>" not in html
    assert "your suggestion helps" not in html  # the submitter's hint is not the lead's
    assert f'href="/evidence/{accepted.id}#mappings"' in html  # mapping is done on the item's page


def test_the_review_page_of_an_accepted_item_sends_the_lead_to_its_edit_page(client, login, accepted):
    login(Role.QUALITY_LEAD)
    response = client.get(f"/review/{accepted.id}")
    assert response.status_code == 302 and response.location.endswith(f"/evidence/{accepted.id}/edit")


def test_a_submission_still_goes_to_the_review_page(client, login):
    login(Role.QUALITY_LEAD)
    waiting = make_item("Waiting", status=Status.SUBMITTED)
    assert client.get(f"/evidence/{waiting.id}/edit").location.endswith(f"/review/{waiting.id}")
    html = client.get(f"/review/{waiting.id}").get_data(as_text=True)
    assert "Back to the queue" in html and "Return to the submitter" in html


def test_saving_the_edit_changes_the_item_and_records_it(client, login, accepted):
    login(Role.QUALITY_LEAD)
    response = client.post(
        f"/evidence/{accepted.id}/edit", data=_form(accepted, result_percent="61", review_by="2027-03-31")
    )
    assert response.status_code == 302 and response.location.endswith(f"/evidence/{accepted.id}")
    db.session.refresh(accepted)
    assert (accepted.result_percent, accepted.review_by, accepted.status) == (61.0, date(2027, 3, 31), Status.ACCEPTED)
    [edit] = [e for e in history("evidence_item", accepted.id) if e.what == "Edited"]
    assert {c.label: (c.before, c.after) for c in edit.changes}["Result (%)"] == ("55%", "61%")


def test_a_bad_field_is_named_and_changes_nothing(client, login, accepted):
    login(Role.QUALITY_LEAD)
    response = client.post(f"/evidence/{accepted.id}/edit", data=_form(accepted, title="", result_percent="1e309"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Title: give the finding a short title." in html and re.search(r"Result \(%\)", html)
    db.session.refresh(accepted)
    assert (accepted.title, accepted.result_percent) == ("Carers feel listened to", 55.0)


def test_an_edit_on_an_older_version_is_refused_and_both_versions_are_shown(client, login, accepted):
    login(Role.QUALITY_LEAD)
    opened = _form(accepted)
    client.post(f"/evidence/{accepted.id}/edit", data=_form(accepted, title="Carers feel heard"))
    response = client.post(f"/evidence/{accepted.id}/edit", data={**opened, "title": "Carers feel listened to (2026)"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "while you were editing it" in html and "Carers feel heard" in html
    db.session.refresh(accepted)
    assert accepted.title == "Carers feel heard"


def test_only_curators_edit(client, login, accepted):
    login(Role.MANAGER)
    assert client.get(f"/evidence/{accepted.id}/edit").status_code == 403


def test_a_quote_with_a_name_in_it_is_flagged_on_the_edit_page(client, login):
    quote = make_item(
        "A carer", kind=Kind.QUOTE, quote_text="Mrs Patel helped me.", speaker_role="Carer", voice="carer"
    )
    login(Role.QUALITY_LEAD)
    html = client.get(f"/evidence/{quote.id}/edit").get_data(as_text=True)
    assert "Personal data check" in html and "Mrs Patel" in html
