"""Sign-off readiness: each thing that stands in the way of a sign-off, or deserves a look, is listed."""

from __future__ import annotations

import re

import pytest

from evidence.assessment import readiness as r
from evidence.db import db
from tests.factories import make_action, make_round, round_with_everything_in_the_way, score_all


@pytest.fixture
def round_with_everything(app):
    return round_with_everything_in_the_way()


def _by_kind(round_) -> dict[str, r.Concern]:
    return {c.kind: c for c in r.readiness(round_)}


def test_each_kind_of_concern_is_listed_with_the_places_it_is_found(round_with_everything):
    found = _by_kind(round_with_everything["round"])
    assert list(found) == [r.NOT_SCORED, r.AWAITING_REVIEW, r.PERSONAL_DATA, r.GAPS, r.STALE_CITED, r.NO_OWNER]

    not_scored = found[r.NOT_SCORED]
    assert not_scored.title == "8 statements are not scored"
    assert not_scored.total == 8 and len(not_scored.places) == r.LISTED and not_scored.more == 0
    assert "safe-pathways" not in {p.statement_key for p in not_scored.places}

    waiting = found[r.AWAITING_REVIEW]
    assert waiting.title == "1 submission is still waiting for review"
    assert [p.item_id for p in waiting.places] == [round_with_everything["waiting"].id]

    personal = found[r.PERSONAL_DATA]
    assert personal.title == "1 piece of text looks like personal data"
    assert "title and name “Mrs Patel”" in personal.places[0].text

    stale_item = round_with_everything["stale"]
    [cited] = found[r.STALE_CITED].places
    assert (cited.statement_key, cited.item_id) == ("safe-pathways", stale_item.id)
    assert re.search(r"review was due \d{1,2} [A-Z][a-z]{2} \d{4}$", cited.text)

    [unowned] = found[r.NO_OWNER].places
    assert found[r.NO_OWNER].title == "1 action has no owner"
    assert (unowned.action_id, unowned.statement_key) == (round_with_everything["unowned"].id, "safeguarding")

    gaps = found[r.GAPS]
    assert gaps.total > 0 and all(": " in p.text for p in gaps.places)
    assert not any("no score" in p.text for p in gaps.places)  # unscored are listed once, on their own


def test_a_round_with_nothing_in_the_way_is_ready(app):
    round_ = make_round()
    score_all(round_, 2)
    concerns = _by_kind(round_)
    assert {r.NOT_SCORED, r.AWAITING_REVIEW, r.PERSONAL_DATA, r.STALE_CITED, r.NO_OWNER}.isdisjoint(concerns)


@pytest.mark.parametrize("owner", ["tbc", " TBC. ", "Unassigned", "-", "n/a", "To be confirmed"])
def test_placeholder_owners_count_as_nobody(app, owner):
    round_ = make_round()
    action = make_action("equity", owner=owner)
    action.round_id = round_.id
    db.session.commit()
    assert [p.action_id for p in _by_kind(round_)[r.NO_OWNER].places] == [action.id]


def test_a_done_action_without_an_owner_is_not_a_concern(app):
    round_ = make_round()
    make_action("equity", owner="TBC", status="done")
    assert r.NO_OWNER not in _by_kind(round_)
