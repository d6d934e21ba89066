"""Rounds: creating (and carrying forward), signing off (which freezes), and comparing."""

from datetime import timedelta

import pytest

from evidence import audit
from evidence.assessment.actions import create_action, update_action
from evidence.assessment.assessments import RoundFrozenError, find_assessment, save_assessment
from evidence.assessment.round_view import round_view
from evidence.assessment.rounds import RoundError, compare_rounds, create_round, round_overview, sign_off
from evidence.db import db
from evidence.library.mappings import remove_mapping
from evidence.models import Action, Round, today
from evidence.vocab import ActionStatus, Role, RoundStatus, Stance, Status
from tests.factories import make_item, make_round, score_all, statement


@pytest.fixture
def lead(make_user):
    return make_user(Role.QUALITY_LEAD)


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, name="Maya Manager")


def test_create_round_is_recorded(app, lead):
    round_ = create_round("  Spring 2027 self-assessment ", lead)
    assert round_.name == "Spring 2027 self-assessment"
    assert round_.status == RoundStatus.OPEN and round_.created_by_id == lead.id
    [event] = audit.history("round", round_.id)
    assert event.action == "create" and event.user_id == lead.id
    assert event.after == {"name": "Spring 2027 self-assessment", "status": "open"}


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_round_needs_a_sensible_name(app, lead, name):
    with pytest.raises(RoundError):
        create_round(name, lead)
    assert db.session.query(Round).count() == 0


def test_round_names_are_unique(app, lead):
    create_round("Winter", lead)
    with pytest.raises(RoundError, match="already a round"):
        create_round("Winter", lead)


def test_carrying_forward_copies_scores_text_and_unfinished_actions(app, lead):
    item = make_item("Survey")
    old = create_round("Winter", lead)
    save_assessment(old, statement("equity"), {"score": 3, "rationale": f"Fair [{item.reference}]"}, 0, lead)
    create_action(statement("equity"), {"description": "Still to do", "owner": "Team A"}, lead, old)
    done = create_action(statement("equity"), {"description": "Finished", "owner": "Team B"}, lead, old)
    update_action(done, {"description": "Finished", "owner": "Team B", "status": ActionStatus.DONE}, lead)

    new = create_round("Spring", lead, carry_forward_from=old)
    copied = find_assessment(new, statement("equity"))
    assert copied.score == 3 and copied.rationale == f"Fair [{item.reference}]"
    assert copied.id != find_assessment(old, statement("equity")).id
    carried = db.session.query(Action).filter_by(round_id=new.id).all()
    assert [a.description for a in carried] == ["Still to do"]
    assert audit.history("assessment", copied.id)[0].summary.startswith("Carried forward")


def test_a_new_round_without_carrying_forward_starts_empty(app, lead):
    old = create_round("Winter", lead)
    save_assessment(old, statement("equity"), {"score": 3}, 0, lead)
    new = create_round("Spring", lead)
    assert find_assessment(new, statement("equity")) is None


def test_sign_off_needs_confirmation(app, manager):
    round_ = make_round()
    with pytest.raises(RoundError, match="confirm"):
        sign_off(round_, manager, confirmed=False)
    assert round_.status == RoundStatus.OPEN and round_.snapshot is None


def test_sign_off_freezes_the_round(app, lead, manager):
    item = make_item("Carers survey", mappings=[("equity", "peoples-experience", Stance.STRENGTH)])
    round_ = make_round()
    save_assessment(round_, statement("equity"), {"score": 3, "rationale": f"See [{item.reference}]"}, 0, lead)
    action = create_action(statement("equity"), {"description": "Train staff", "owner": "Ops"}, lead, round_)

    sign_off(round_, manager, confirmed=True)
    assert round_.status == RoundStatus.SIGNED_OFF
    assert round_.signed_off_by_id == manager.id and round_.signed_off_at is not None
    assert round_.snapshot["round_id"] == round_.id

    [event] = [e for e in audit.history("round", round_.id) if e.action == "sign_off"]
    assert event.user_id == manager.id
    assert event.before["status"] == "open" and event.after["status"] == "signed_off"

    with pytest.raises(RoundFrozenError):
        save_assessment(round_, statement("equity"), {"score": 4}, 1, lead)
    with pytest.raises(RoundFrozenError):
        update_action(action, {"description": "Changed", "owner": "Ops"}, lead)
    with pytest.raises(RoundFrozenError):
        create_action(statement("equity"), {"description": "New", "owner": "Ops"}, lead, round_)
    with pytest.raises(RoundError):
        sign_off(round_, manager, confirmed=True)  # not twice
    db.session.refresh(action)
    assert action.description == "Train staff"


def test_the_snapshot_does_not_change_when_evidence_is_edited_later(app, lead, manager):
    kept = make_item("Carers survey", mappings=[("equity", "peoples-experience", Stance.STRENGTH)])
    dropped = make_item("Case audit", mappings=[("equity", "processes", Stance.SHORTFALL)])
    round_ = make_round(scores={"equity": 3})
    sign_off(round_, manager, confirmed=True)
    frozen = round_view(round_).to_dict()

    kept.title = "Carers survey (renamed)"
    kept.review_by = today() - timedelta(days=1)
    remove_mapping(dropped.mappings[0], user=lead)
    dropped.status = Status.ARCHIVED
    make_item("Later evidence", mappings=[("equity", "partners", Stance.STRENGTH)])
    db.session.commit()

    view = round_view(round_)
    assert view.to_dict() == frozen
    assert view.items[kept.id].title == "Carers survey"
    assert {m.item_id for m in view.mappings_for("equity")} == {kept.id, dropped.id}
    assert round_overview(round_).frozen


def test_round_overview_rolls_up_scores(app):
    round_ = make_round()
    score_all(round_, 3)
    overview = round_overview(round_)
    assert overview.overall.percent == 75 and overview.overall.band == "Good"
    assert not overview.frozen


def test_compare_shows_score_movement_and_evidence_added_or_removed(app, lead, manager):
    old_item = make_item("Old survey", mappings=[("equity", "peoples-experience", Stance.STRENGTH)])
    cited_only = make_item("Cited audit")
    a = make_round("Winter", scores={"equity": 2, "safeguarding": 3, "governance": 3, "learning": 1})
    save_assessment(a, statement("learning"), {"score": 1, "rationale": f"[{cited_only.reference}]"}, 1, lead)
    sign_off(a, manager, confirmed=True)

    remove_mapping(old_item.mappings[0], user=lead)
    new_item = make_item("New survey", mappings=[("equity", "peoples-experience", Stance.STRENGTH)])
    b = make_round("Spring", scores={"equity": 3, "safeguarding": 2, "governance": 3, "healthier-lives": 2})

    result = compare_rounds(a, b)
    by_key = {s.key: s for s in result.statements}
    assert (by_key["equity"].score_a, by_key["equity"].score_b, by_key["equity"].movement) == (2, 3, "up")
    assert by_key["safeguarding"].movement == "down"
    assert by_key["governance"].movement == "same"
    assert by_key["healthier-lives"].movement == "not_comparable"
    assert by_key["healthier-lives"].movement_label == "Newly scored"
    assert by_key["learning"].movement_label == "No longer scored"
    assert [i.reference for i in by_key["equity"].added] == [new_item.reference]
    assert [(i.reference, i.title) for i in by_key["equity"].removed] == [(old_item.reference, "Old survey")]
    assert [i.reference for i in by_key["learning"].removed] == [cited_only.reference]
    assert by_key["governance"].added == [] and by_key["governance"].removed == []
    assert result.count("up") == 1 and result.count("down") == 1
    assert result.evidence_added == 1 and result.evidence_removed == 2


def test_the_view_and_the_snapshot_carry_category_scores_and_the_override_reason(app, lead, manager):
    round_ = make_round()
    data = {
        "score": 2,
        "category_scores": {"peoples-experience": 3, "processes": 3},
        "override_reason": "Waiting lists grew after the survey",
    }
    save_assessment(round_, statement("equity"), data, 0, lead)

    live = round_view(round_).assessments["equity"]
    assert live.category_scores == {"peoples-experience": 3, "processes": 3}
    assert live.suggested_score == 3 and live.override_reason == "Waiting lists grew after the survey"

    sign_off(round_, manager, confirmed=True)
    frozen = round_view(round_).assessments["equity"]
    assert (frozen.category_scores, frozen.override_reason) == (live.category_scores, live.override_reason)
