"""Markup the browser relies on: ids unique on a page, and a change history that reads in words."""

from __future__ import annotations

import re
from collections import Counter

from evidence import audit
from evidence.db import db
from evidence.vocab import Role
from tests import jobs
from tests.factories import make_item, make_round


def repeated_ids(html: str) -> dict[str, int]:
    counts = Counter(re.findall(r'\sid="([^"]+)"', html))
    return {element_id: n for element_id, n in counts.items() if n > 1}


def test_the_statement_preview_and_its_button_have_ids_of_their_own(client, login):
    round_ = make_round(scores={"safe-pathways": 3})
    login(Role.QUALITY_LEAD)
    response = client.post(
        f"/statements/safe-pathways/assessment/{round_.id}",
        data={"version": "1", "score": "3", "rationale": "Steady.", "preview": "Preview"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="preview"' in html
    assert repeated_ids(html) == {}
    assert 'id="preview"' in html and 'id="preview-button"' in html


def test_the_export_checks_page_repeats_no_id_and_still_downloads(client, login):
    round_ = make_round(scores={"safe-pathways": 3})
    login(Role.MANAGER)
    html = client.get(f"/exports?round={round_.id}&format=xlsx").get_data(as_text=True)
    assert 'data-testid="checks"' in html
    assert repeated_ids(html) == {}
    assert f'id="download-round" name="round" type="hidden" value="{round_.id}"' in html
    download = jobs.export(client, str(round_.id), "xlsx")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_the_change_history_names_fields_in_words(client, login):
    user = login(Role.QUALITY_LEAD)
    item = make_item("Carers feel listened to")
    audit.record(
        "update",
        item,
        user=user,
        summary="Checked by the quality lead",
        before={"review_by": "2026-03-31", "personal_data": False, "checked_at": None},
        after={"review_by": "2027-03-31", "personal_data": True, "checked_at": "2026-11-23T12:55:17.401356"},
    )
    db.session.commit()
    html = client.get(f"/evidence/{item.id}").get_data(as_text=True)
    history = html[html.index('id="history-heading"') :]
    assert "<dt>Review by</dt>" in history and "<dt>Holds personal data</dt>" in history
    assert "review_by" not in history and "personal_data" not in history
    assert '<span class="history-before">No</span>' in history and '<span class="history-after">Yes</span>' in history
    assert "31 Mar 2026" in history and "31 Mar 2027" in history and "2026-03-31" not in history
    assert '<span class="history-after">23 Nov 2026 12:55</span>' in history and "401356" not in history
    assert '<span class="history-before">—</span>' in history


def test_an_empty_sign_in_says_what_to_enter(client):
    response = client.post("/sign-in", data={"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert "Enter your email address." in html and "Enter your password." in html
    assert "This field is required." not in html
    response = client.post("/sign-in", data={"email": "not-an-address", "password": "x"})
    assert "Enter an email address like name@council.gov.uk." in response.get_data(as_text=True)
