"""The gaps check: each kind of gap is found, and goes away once fixed."""

from datetime import timedelta

import pytest

from evidence.assessment.assessments import save_assessment
from evidence.assessment.gaps import (
    AT_ODDS,
    NO_EVIDENCE,
    ONLY_STALE,
    UNCITED,
    UNSCORED,
    ScoredText,
    find_gaps,
    live_gaps,
)
from evidence.assessment.summary import Summary
from evidence.db import db
from evidence.models import today
from evidence.vocab import Role, Stance, Status
from tests.factories import make_item, make_round, statement

EQUITY = "equity"
CATEGORIES = ["peoples-experience", "staff-leaders", "partners", "processes"]


@pytest.fixture
def lead(make_user):
    return make_user(Role.QUALITY_LEAD)


def gaps_for(round_, key=EQUITY, kind=None):
    return [g for g in live_gaps(round_) if g.statement_key == key and (kind is None or g.kind == kind)]


def cover_every_category(key=EQUITY, stance=Stance.STRENGTH):
    return [make_item(f"{key} {c}", mappings=[(key, c, stance)]) for c in CATEGORIES]


def test_no_accepted_evidence_in_a_category(app):
    make_item("Pending", status=Status.SUBMITTED, mappings=[(EQUITY, "partners", Stance.STRENGTH)])
    round_ = make_round()
    missing = {g.category_key for g in gaps_for(round_, kind=NO_EVIDENCE)}
    assert missing == set(CATEGORIES)  # a submitted item does not count

    make_item("Partner forum notes", mappings=[(EQUITY, "partners", Stance.STRENGTH)])
    missing = {g.category_key for g in gaps_for(round_, kind=NO_EVIDENCE)}
    assert missing == set(CATEGORIES) - {"partners"}


def test_only_stale_evidence_in_a_category(app):
    old = make_item(
        "Old survey", review_by=today() - timedelta(days=3), mappings=[(EQUITY, "peoples-experience", Stance.STRENGTH)]
    )
    round_ = make_round()
    [gap] = gaps_for(round_, kind=ONLY_STALE)
    assert gap.category_key == "peoples-experience"
    assert gap.message == "The only item under People's experience is past its review date."
    assert not [g for g in gaps_for(round_, kind=NO_EVIDENCE) if g.category_key == "peoples-experience"]

    old.review_by = today() + timedelta(days=30)  # reviewed
    db.session.commit()
    assert gaps_for(round_, kind=ONLY_STALE) == []


def test_unscored_statement(app, lead):
    round_ = make_round()
    assert [g.kind for g in gaps_for(round_, kind=UNSCORED)] == [UNSCORED]
    save_assessment(round_, statement(EQUITY), {"score": 3}, 0, lead)
    assert gaps_for(round_, kind=UNSCORED) == []


def test_with_no_round_every_statement_is_unscored(app):
    assert len([g for g in live_gaps(None) if g.kind == UNSCORED]) == 9


def test_scored_without_citing_evidence(app, lead):
    items = cover_every_category()
    round_ = make_round()
    save_assessment(round_, statement(EQUITY), {"score": 3, "rationale": "Good, we think."}, 0, lead)
    [gap] = gaps_for(round_, kind=UNCITED)
    assert gap.message == "Scored 3 without citing any evidence."

    save_assessment(round_, statement(EQUITY), {"score": 3, "rationale": f"Good [{items[0].reference}]."}, 1, lead)
    assert gaps_for(round_, kind=UNCITED) == []

    items[0].status = Status.ARCHIVED  # a citation stops counting once its item is no longer accepted
    db.session.commit()
    assert [g.kind for g in gaps_for(round_, kind=UNCITED)] == [UNCITED]


def test_a_four_with_more_shortfalls_than_strengths_is_at_odds(app, lead):
    strength = make_item("Good", mappings=[(EQUITY, "processes", Stance.STRENGTH)])
    make_item("Bad 1", mappings=[(EQUITY, "partners", Stance.SHORTFALL)])
    make_item("Bad 2", mappings=[(EQUITY, "staff-leaders", Stance.SHORTFALL)])
    round_ = make_round()
    save_assessment(round_, statement(EQUITY), {"score": 4, "rationale": f"[{strength.reference}]"}, 0, lead)
    [gap] = gaps_for(round_, kind=AT_ODDS)
    assert "more shortfalls (2) than strengths (1)" in gap.message

    for n in range(2):
        make_item(f"More good {n}", mappings=[(EQUITY, "peoples-experience", Stance.STRENGTH)])
    assert gaps_for(round_, kind=AT_ODDS) == []


def test_a_one_with_no_shortfall_is_at_odds(app, lead):
    item = make_item("Context only", mappings=[(EQUITY, "processes", Stance.CONTEXT)])
    round_ = make_round()
    save_assessment(round_, statement(EQUITY), {"score": 1, "rationale": f"[{item.reference}]"}, 0, lead)
    [gap] = gaps_for(round_, kind=AT_ODDS)
    assert gap.message == "Scored 1 but no evidence is mapped as a shortfall."

    make_item("Long waits", mappings=[(EQUITY, "peoples-experience", Stance.SHORTFALL)])
    assert gaps_for(round_, kind=AT_ODDS) == []


def test_the_two_ends_of_the_scale_are_judged_alike():
    statements, categories = [("s", "S")], [("c", "C")]

    def at_odds(score, strengths, shortfalls):
        summary = Summary()
        if strengths:
            summary[("s", "c")].add(Stance.STRENGTH, False, strengths)
        if shortfalls:
            summary[("s", "c")].add(Stance.SHORTFALL, False, shortfalls)
        gaps = find_gaps(statements, categories, summary, {"s": ScoredText(score, ("E-1",))})
        return [g.message for g in gaps if g.kind == AT_ODDS]

    assert at_odds(4, 0, 0) == ["Scored 4 but no evidence is mapped as a strength."]
    assert at_odds(4, 3, 1) == []
    assert at_odds(1, 3, 1) == ["Scored 1 but its evidence shows more strengths (3) than shortfalls (1)."]
    assert at_odds(1, 1, 3) == []
    assert at_odds(2, 0, 0) == [] and at_odds(3, 0, 5) == []


def test_a_complete_well_evidenced_statement_has_no_gaps(app, lead):
    items = cover_every_category()
    round_ = make_round()
    save_assessment(round_, statement(EQUITY), {"score": 3, "key_findings": f"[{items[1].reference}]"}, 0, lead)
    assert gaps_for(round_) == []


# --- Candidates for a gap in evidence ------------------------------------------------------------------


def test_candidates_are_evidence_of_the_category_for_other_statements_then_items_that_mention_it(app):
    from evidence.assessment.gaps import candidates
    from tests.factories import category

    elsewhere = make_item("Providers say fees are fair", mappings=[("care-provision", "partners", Stance.STRENGTH)])
    other_category = make_item("Fee setting procedure", mappings=[("care-provision", "processes", Stance.CONTEXT)])
    already = make_item("Already counted", mappings=[(EQUITY, "partners", Stance.STRENGTH)])
    mentions_both = make_item("Equity of outcomes", summary="Experience and outcomes differ between groups.")
    mentions_one = make_item("Outcomes of reviews", summary="Review outcomes for people.")
    waiting = make_item("Equity audit", status=Status.SUBMITTED, summary="Experience and outcomes.")
    unrelated = make_item("Staff survey", summary="Confidence with transitions.")

    mapped, mentioning = candidates(statement(EQUITY), category("partners"))  # "Equity in experience and outcomes"

    assert [c.item for c in mapped] == [elsewhere]
    assert mapped[0].mapped_to == ("Care provision, integration and continuity",)
    # Most of the statement's words first; only accepted items; none already mapped here; none shown twice.
    assert [c.item for c in mentioning] == [mentions_both, mentions_one]
    assert mentioning[0].words == ("equity", "experi", "outcom")
    for item in (other_category, already, waiting, unrelated):
        assert item not in [c.item for c in mapped + mentioning]


def test_a_statement_names_its_distinctive_words():
    from evidence.assessment.gaps import statement_words

    assert statement_words("Supporting people to live healthier lives") == ["health"]
    assert statement_words("Safe pathways, systems and transitions") == ["safe", "pathwa", "system", "transi"]
