"""The same form sent by several people at the same moment: one is saved, every other person gets a page
that says why theirs was not, and nobody gets a server error (SQLite, and PostgreSQL with TEST_DATABASE_URL).
"""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from evidence.db import db
from evidence.models import EvidenceItem, Mapping, MetricPoint, Round
from evidence.vocab import Kind, Role, Status
from tests.conftest import sign_in
from tests.factories import make_item, make_round
from tests.threads import run_together

PEOPLE = 6


@pytest.fixture
def clients(app, make_user):
    """A browser for each of several quality leads, each signed in."""
    signed_in = []
    for n in range(PEOPLE):
        client = app.test_client()
        assert sign_in(client, make_user(Role.QUALITY_LEAD, name=f"Lead {n}")).status_code == 302
        signed_in.append(client)
    return signed_in


def _post_together(app, clients, url: str, forms: list[dict]) -> list[tuple[int, str]]:
    def sends(client, form):
        return lambda: lambda: client.post(url, data=form)

    responses = run_together(app, [sends(c, f) for c, f in zip(clients, forms, strict=True)])
    assert not [r for r in responses if isinstance(r, BaseException)], responses
    assert [r.status_code for r in responses if r.status_code >= 500] == []
    return [(r.status_code, html.unescape(r.get_data(as_text=True))) for r in responses]


def _one_saved(answers: list[tuple[int, str]], refused_status: int) -> list[str]:
    """Exactly one answer is the redirect after a save; the others' pages, all with the refusal status."""
    assert sorted(status for status, _ in answers) == sorted([302] + [refused_status] * (PEOPLE - 1))
    return [page for status, page in answers if status != 302]


@pytest.fixture(params=["no open round", "an open round"])
def rounds(request, app):
    if request.param == "an open round":
        make_round("Open while people write")


def test_the_same_value_added_at_once_tells_the_others_it_is_there(app, clients, rounds):
    metric = make_item("Reviews on time", kind=Kind.METRIC, direction="higher")
    forms = [{"period": "2026-09", "value": str(50 + n)} for n in range(PEOPLE)]
    answers = _post_together(app, clients, f"/evidence/{metric.id}/points", forms)
    (value,) = db.session.scalars(select(MetricPoint.value)).all()
    for page in _one_saved(answers, 422):
        assert "The value was not saved" in page
        assert f"Sep 2026 already has a value ({value:g}); tick “Replace” to change it" in page


def test_the_same_mapping_added_at_once_tells_the_others_it_is_there(app, clients, rounds):
    item = make_item("Carers survey")
    form = {"statement": "equity", "category": "partners", "stance": "strength", "note": ""}
    answers = _post_together(app, clients, f"/evidence/{item.id}/mappings", [form] * PEOPLE)
    assert len(db.session.scalars(select(Mapping)).all()) == 1
    for page in _one_saved(answers, 422):
        assert "The mapping was not added" in page and f"{item.reference} is already mapped to Equity" in page


def test_two_leads_saving_one_item_at_one_version_see_the_version_that_won(app, clients, rounds):
    item = make_item("Carers feel listened to", status=Status.SUBMITTED, survey_name="SACE", result_percent=61.0)
    base = {"source": "SACE", "survey_name": "SACE", "result_percent": "61", "version": item.version}
    forms = [{**base, "title": f"Retitled by lead {n}", "action": "save"} for n in range(PEOPLE)]
    answers = _post_together(app, clients, f"/review/{item.id}", forms)
    db.session.expire_all()
    saved = db.session.get(EvidenceItem, item.id)
    for page in _one_saved(answers, 409):
        assert "Nothing was saved" in page and "changed by someone else while you were editing it" in page
        assert "Their saved version" in page and saved.title in page  # theirs, beside the reviewer's own
        assert f'name="version" type="hidden" value="{saved.version}"' in page  # saving again is deliberate


def test_the_same_round_name_created_at_once_makes_one_round(app, clients):
    forms = [{"name": "Spring 2027 self-assessment"}] * PEOPLE
    answers = _post_together(app, clients, "/rounds", forms)
    assert len(db.session.scalars(select(Round)).all()) == 1
    for page in _one_saved(answers, 422):
        assert "Round not created: There is already a round called “Spring 2027 self-assessment”" in page
