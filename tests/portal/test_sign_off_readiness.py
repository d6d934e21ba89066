"""The sign-off panel: what stands in the way, the tick before the last question, and what comes next."""

from __future__ import annotations

import re

import pytest

from evidence.assessment.rounds import sign_off
from evidence.db import db
from evidence.models import Assessment
from evidence.vocab import Role
from tests.factories import round_with_everything_in_the_way


@pytest.fixture
def round_with_everything(app):
    return round_with_everything_in_the_way()


def test_the_portal_lists_each_concern_on_the_round_page_with_links(client, login, round_with_everything):
    login(Role.MANAGER)
    round_ = round_with_everything["round"]
    html = client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    panel = html[html.index('id="readiness"') : html.index('id="sign-heading"')]
    for title in (
        "8 statements are not scored",
        "1 submission is still waiting for review",
        "1 piece of text looks like personal data",
        "1 citation of stale evidence",
        "1 action has no owner",
    ):
        assert title in panel
    stale = round_with_everything["stale"]
    assert f'href="/evidence/{stale.id}"' in panel  # the stale item, to review it
    assert f'href="/actions?round={round_.id}"' in panel  # a manager sees every action in the tracker
    assert 'href="/review"' not in panel  # the queue is the quality lead's
    assert 'data-confirm-if="confirm"' in html  # "cannot be undone" is asked only once the box is ticked


def test_the_quality_lead_is_taken_to_the_review_and_the_action(client, login, round_with_everything):
    login(Role.QUALITY_LEAD)
    round_ = round_with_everything["round"]
    panel = client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert f'href="/review/{round_with_everything["waiting"].id}"' in panel
    assert f'href="/statements/safeguarding/actions/{round_with_everything["unowned"].id}/edit"' in panel


def test_after_sign_off_the_page_offers_the_export_and_the_next_round(client, login, make_user, round_with_everything):
    round_ = round_with_everything["round"]
    sign_off(round_, make_user(Role.MANAGER), confirmed=True)
    login(Role.MANAGER)
    html = client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert 'id="readiness"' not in html
    steps = html[html.index('id="next-steps"') :]
    assert f'href="/exports?round={round_.id}"' in steps
    assert 'action="/rounds"' in steps
    assert re.search(r'<input [^>]*checked[^>]*name="carry_forward"', steps)  # carrying forward, as today
    response = client.post("/rounds", data={"name": "Autumn 2027 self-assessment", "carry_forward": "y"})
    assert response.status_code == 302
    assert db.session.query(Assessment).filter(Assessment.score == 3).count() == 2  # carried forward
