"""Saving a statement's assessment: scores, citations, frozen rounds, conflicts and the audit trail."""

import pytest

from evidence import audit
from evidence.assessment.assessments import (
    CitationError,
    ConflictError,
    RoundFrozenError,
    ValidationError,
    find_assessment,
    group_evidence,
    live_evidence_rows,
    map_reference,
    save_assessment,
    statement_page,
)
from evidence.assessment.rounds import sign_off
from evidence.db import db
from evidence.library.mappings import MappingError
from evidence.models import Assessment
from evidence.vocab import Role, Stance, Status
from tests.factories import make_item, make_round, statement


@pytest.fixture
def lead(make_user):
    return make_user(Role.QUALITY_LEAD, name="Lee Quality")


@pytest.fixture
def round_(app):
    return make_round("Winter 2026 self-assessment")


def test_score_and_text_are_saved_with_their_label(app, lead, round_):
    item = make_item("Carers survey 2026")
    s = statement("assessing-needs")
    saved = save_assessment(round_, s, {"score": 3, "rationale": f"Good carers' feedback [{item.reference}]."}, 0, lead)
    assert saved.score == 3
    assert saved.version == 1
    page = statement_page(s, round_)
    assert page.assessment.score == 3
    assert page.assessment.label == "Evidence shows a good standard"
    assert page.assessment.updated_by == "Lee Quality"


def test_saving_again_needs_the_current_version(app, lead, round_):
    s = statement("assessing-needs")
    save_assessment(round_, s, {"score": 2}, 0, lead)
    saved = save_assessment(round_, s, {"score": 3}, 1, lead)
    assert saved.version == 2 and saved.score == 3


def test_unchanged_save_keeps_the_version_and_writes_no_audit(app, lead, round_):
    s = statement("assessing-needs")
    a = save_assessment(round_, s, {"score": 2, "rationale": "Same"}, 0, lead)
    before = len(audit.history("assessment", a.id))
    again = save_assessment(round_, s, {"score": 2, "rationale": "Same"}, 1, lead)
    assert again.version == 1
    assert len(audit.history("assessment", a.id)) == before


@pytest.mark.parametrize("bad", [0, 5, "x"])
def test_an_invalid_score_is_refused(app, lead, round_, bad):
    with pytest.raises(ValidationError) as error:
        save_assessment(round_, statement("equity"), {"score": bad}, 0, lead)
    assert "score" in error.value.errors
    assert find_assessment(round_, statement("equity")) is None


def test_citation_of_unknown_evidence_is_refused(app, lead, round_):
    good = make_item("Accepted audit")
    text = f"See [{good.reference}] and [E-9999]."
    with pytest.raises(CitationError) as error:
        save_assessment(round_, statement("equity"), {"score": 3, "rationale": text}, 0, lead)
    assert error.value.references == ["E-9999"]
    assert "E-9999 does not exist" in str(error.value)
    assert find_assessment(round_, statement("equity")) is None


def test_citation_of_evidence_that_is_not_accepted_is_refused(app, lead, round_):
    submitted = make_item("Fresh submission", status=Status.SUBMITTED)
    returned = make_item("Sent back", status=Status.RETURNED)
    with pytest.raises(CitationError) as error:
        save_assessment(
            round_,
            statement("equity"),
            {"score": 3, "key_findings": f"[{submitted.reference}]", "strengths": f"[{returned.reference.lower()}]"},
            0,
            lead,
        )
    assert error.value.problems == [
        (submitted.reference, "is submitted, not accepted"),
        (returned.reference, "is returned, not accepted"),
    ]
    assert find_assessment(round_, statement("equity")) is None


def test_every_problem_is_reported_in_one_pass(app, lead, round_):
    submitted = make_item("Fresh submission", status=Status.SUBMITTED)
    data = {
        "score": 2,
        "category_scores": {"peoples-experience": 4},
        "rationale": f"See [{submitted.reference}] and [E-9999].",
        "strengths": "x" * 20_001 + " [E-9998]",
    }
    with pytest.raises(ValidationError) as error:
        save_assessment(round_, statement("equity"), data, 0, lead)
    errors = error.value.errors
    assert set(errors) == {"override_reason", "rationale", "strengths"}
    assert "suggest 4" in errors["override_reason"]
    assert (
        errors["rationale"]
        == f"Cannot cite {submitted.reference} (is submitted, not accepted); E-9999 (does not exist)."
    )
    assert errors["strengths"].startswith("Strengths can be at most 20,000 characters.")
    assert errors["strengths"].endswith("Cannot cite E-9998 (does not exist).")
    assert find_assessment(round_, statement("equity")) is None


def test_a_score_departing_from_the_category_suggestion_needs_a_reason(app, lead, round_):
    s = statement("safeguarding")
    categories = {"peoples-experience": 3, "staff-leaders": 3, "partners": 3, "processes": 3}
    with pytest.raises(ValidationError) as error:
        save_assessment(round_, s, {"score": 2, "category_scores": categories}, 0, lead)
    assert "suggest 3" in error.value.errors["override_reason"]
    saved = save_assessment(
        round_,
        s,
        {"score": 2, "category_scores": categories, "override_reason": "Recent serious case review."},
        0,
        lead,
    )
    assert saved.category_scores == categories
    assert saved.override_reason == "Recent serious case review."
    # Agreeing with the suggestion needs no reason.
    agreed = save_assessment(round_, statement("equity"), {"score": 3, "category_scores": categories}, 0, lead)
    assert agreed.override_reason is None


def test_an_unknown_category_is_refused(app, lead, round_):
    with pytest.raises(ValidationError):
        save_assessment(round_, statement("equity"), {"score": 3, "category_scores": {"observation": 3}}, 0, lead)


def test_a_stale_version_is_a_conflict_showing_the_other_version(app, make_user, round_):
    first, second = make_user(Role.QUALITY_LEAD, name="Ann"), make_user(Role.QUALITY_LEAD, name="Bob")
    s = statement("governance")
    save_assessment(round_, s, {"score": 2, "rationale": "Original"}, 0, first)
    # Both start from version 1; Bob saves first.
    save_assessment(round_, s, {"score": 3, "rationale": "Bob's view"}, 1, second)
    with pytest.raises(ConflictError) as error:
        save_assessment(round_, s, {"score": 1, "rationale": "Ann's view"}, 1, first)
    theirs = error.value.theirs
    assert theirs.rationale == "Bob's view" and theirs.score == 3
    assert theirs.updated_by == "Bob" and theirs.version == 2
    assert find_assessment(round_, s).rationale == "Bob's view"


def test_two_people_creating_the_same_assessment_conflict(app, make_user, round_):
    s = statement("governance")
    save_assessment(round_, s, {"score": 2}, 0, make_user(Role.QUALITY_LEAD))
    with pytest.raises(ConflictError):
        save_assessment(round_, s, {"score": 4}, 0, make_user(Role.QUALITY_LEAD))
    assert db.session.query(Assessment).count() == 1


def test_a_signed_off_round_refuses_saves(app, lead, make_user, round_):
    s = statement("learning")
    save_assessment(round_, s, {"score": 2, "rationale": "Before sign-off"}, 0, lead)
    sign_off(round_, make_user(Role.MANAGER), confirmed=True)
    with pytest.raises(RoundFrozenError, match="signed off"):
        save_assessment(round_, s, {"score": 4, "rationale": "After"}, 1, lead)
    assert find_assessment(round_, s).rationale == "Before sign-off"


def test_each_save_is_in_the_audit_trail_with_before_and_after(app, lead, round_):
    s = statement("partnerships")
    a = save_assessment(round_, s, {"score": 2, "rationale": "First"}, 0, lead)
    save_assessment(round_, s, {"score": 3, "rationale": "Second"}, 1, lead)
    events = audit.history("assessment", a.id)
    assert [e.action for e in events] == ["update", "create"]
    update = events[0]
    assert update.user_id == lead.id
    assert update.before == {"score": 2, "rationale": "First"}
    assert update.after == {"score": 3, "rationale": "Second"}
    assert "2 to 3" in update.summary


def test_evidence_is_grouped_by_category_and_stance(app):
    make_item("Strong survey", mappings=[("equity", "peoples-experience", Stance.STRENGTH)])
    make_item("Weak audit", mappings=[("equity", "processes", Stance.SHORTFALL)])
    make_item("Pending", status=Status.SUBMITTED, mappings=[("equity", "processes", Stance.STRENGTH)])
    groups = {
        g.key: g
        for g in group_evidence(
            live_evidence_rows(statement("equity")),
            [
                ("peoples-experience", "People's experience"),
                ("processes", "Processes"),
            ],
        )
    }
    assert groups["peoples-experience"].count(Stance.STRENGTH) == 1
    assert groups["processes"].count(Stance.SHORTFALL) == 1
    assert groups["processes"].count(Stance.STRENGTH) == 0  # the submitted item is not shown


def test_mapping_by_reference_only_takes_accepted_items(app, lead):
    accepted = make_item("Accepted")
    pending = make_item("Pending", status=Status.SUBMITTED)
    s = statement("equity")
    mapping = map_reference(s, accepted.reference.lower(), "partners", Stance.CONTEXT, "Partner view", lead)
    assert mapping.item_id == accepted.id and mapping.note == "Partner view"
    assert audit.history("mapping", mapping.id)[0].action == "create"
    with pytest.raises(MappingError, match="only accepted evidence"):
        map_reference(s, pending.reference, "partners", Stance.CONTEXT, "", lead)
    with pytest.raises(MappingError, match="no evidence item E-4242"):
        map_reference(s, "E-4242", "partners", Stance.CONTEXT, "", lead)
    with pytest.raises(MappingError, match="already mapped"):
        map_reference(s, accepted.reference, "partners", Stance.CONTEXT, "", lead)


def test_a_crowded_statement_lists_the_newest_few_and_counts_them_all(app):
    from evidence.assessment.assessments import live_evidence_groups, live_evidence_rows
    from evidence.models import today
    from tests.factories import make_item

    for i in range(7):
        make_item(f"Strength {i}", mappings=[("equity", "processes", "strength")])
    for i in range(3):
        make_item(
            f"Stale shortfall {i}",
            review_by=today().replace(year=2000),
            mappings=[("equity", "processes", "shortfall")],
        )
    cats = [("peoples-experience", "People's experience"), ("processes", "Processes")]
    limited = live_evidence_groups(statement("equity"), cats, limit=5)
    processes = limited[1]
    strengths, shortfalls, context = processes.stances
    assert (strengths.count, len(strengths.rows), strengths.unlisted) == (7, 5, 2)
    assert [r.title for r in strengths.rows] == [f"Strength {i}" for i in (6, 5, 4, 3, 2)]
    assert (shortfalls.count, shortfalls.stale, context.count) == (3, 3, 0)
    assert (processes.total, processes.stale, limited[0].total) == (10, 3, 0)
    # The same counts as grouping every row in Python.
    full = group_evidence(live_evidence_rows(statement("equity")), cats, limit=5)
    assert [(g.stance, g.count, g.stale) for g in full[1].stances] == [
        (g.stance, g.count, g.stale) for g in processes.stances
    ]
