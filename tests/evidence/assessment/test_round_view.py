"""A round as plain data: read live while open, from its snapshot once signed off, the same either way."""

from datetime import date, timedelta

import pytest

from evidence.assessment.assessments import save_assessment
from evidence.assessment.gaps import live_gaps
from evidence.assessment.round_view import RoundView, clear_cache, live_view, round_view
from evidence.assessment.rounds import sign_off
from evidence.assessment.summary import live_summary
from evidence.db import db
from evidence.models import today
from evidence.vocab import Kind, Role, Stance, Status
from tests.factories import make_action, make_item, make_round, statement


@pytest.fixture
def lead(make_user):
    return make_user(Role.QUALITY_LEAD)


@pytest.fixture
def portfolio(app):
    accepted = make_item(
        "Carers survey",
        mappings=[("equity", "peoples-experience", Stance.STRENGTH), ("learning", "partners", Stance.SHORTFALL)],
    )
    stale = make_item(
        "Old audit",
        kind=Kind.CASE_AUDIT,
        cases_reviewed=40,
        audit_outcome="Mostly met",
        review_by=today() - timedelta(days=1),
        mappings=[("equity", "processes", Stance.CONTEXT)],
    )
    waiting = make_item("Not yet reviewed", status=Status.SUBMITTED, mappings=[("equity", "partners", "strength")])
    return accepted, stale, waiting


def test_an_open_round_is_read_from_the_accepted_evidence_as_it_stands(app, lead, portfolio):
    accepted, stale, _ = portfolio
    round_, other = make_round("Winter"), make_round("Another round")
    make_action("equity", "Outside any round")
    make_action("equity", "In this round", round_id=round_.id)
    make_action("equity", "In another round", round_id=other.id)
    save_assessment(round_, statement("equity"), {"score": 3, "rationale": f"See [{accepted.reference}]"}, 0, lead)

    view = live_view(round_)
    assert set(view.items) == {accepted.id, stale.id}  # never what is not accepted
    assert {(m.item_id, m.statement_key) for m in view.mappings} == {
        (accepted.id, "equity"),
        (accepted.id, "learning"),
        (stale.id, "equity"),
    }
    assert view.items[stale.id].details == {"cases_reviewed": 40, "audit_outcome": "Mostly met"}
    assert {a.description for a in view.actions} == {"Outside any round", "In this round"}
    assert view.assessments["equity"].citations == [accepted.reference]
    assert view.as_of == today() and not view.signed_off
    assert set(view.mapped_item_ids("equity")) == {accepted.id, stale.id}
    assert [m.category_key for m in view.item_mappings("equity", accepted.id)] == ["peoples-experience"]


def test_the_views_counts_and_gaps_are_the_live_ones(app, lead, portfolio):
    round_ = make_round("Winter", scores={"equity": 4, "learning": 1})
    view = live_view(round_)
    assert {k: v for k, v in view.summary().items() if v.total} == {k: v for k, v in live_summary().items() if v.total}
    assert view.gaps() == live_gaps(round_)


def test_a_view_survives_its_snapshot_unchanged(app, lead, portfolio):
    round_ = make_round("Winter", scores={"equity": 2})
    view = live_view(round_)
    again = RoundView.from_dict(view.to_dict())
    assert again == view
    assert again.mappings_for("equity") == view.mappings_for("equity")


def test_a_signed_off_round_is_read_from_its_snapshot_and_shared(app, lead, portfolio, make_user):
    accepted, _, _ = portfolio
    round_ = make_round("Winter", scores={"equity": 3})
    sign_off(round_, make_user(Role.MANAGER), confirmed=True)
    accepted.title = "Retitled later"
    db.session.commit()

    view = round_view(round_)
    assert view.signed_off and view.items[accepted.id].title == "Carers survey"
    assert round_view(round_) is view  # parsed once, then kept
    clear_cache()
    assert round_view(round_) is not view and round_view(round_) == view


def test_a_metrics_comparators_are_in_the_view_and_its_snapshot(app, lead, portfolio):
    metric = make_item(
        "Reablement",
        kind=Kind.METRIC,
        unit="%",
        direction="higher",
        points=[(date(2026, 4, 1), "2026 Q2", 83.0), (date(2026, 7, 1), "2026 Q3", 85.0)],
        comparators={"England average": [(date(2026, 7, 1), "2026 Q3", 82.0)], "Region": []},
    )
    view = live_view(make_round())
    shown = view.items[metric.id].comparators
    assert [(c.name, [(p.label, p.value) for p in c.points]) for c in shown] == [
        ("England average", [("2026 Q3", 82.0)]),
        ("Region", []),
    ]
    again = RoundView.from_dict(view.to_dict()).items[metric.id]
    assert again.comparators == shown


def test_a_snapshot_taken_when_a_metric_held_one_comparator_reads_it_as_a_series(app, lead, portfolio):
    metric = make_item(
        "Reablement",
        kind=Kind.METRIC,
        unit="%",
        direction="higher",
        points=[(date(2026, 4, 1), "2026 Q2", 83.0), (date(2026, 7, 1), "2026 Q3", 85.0)],
    )
    data = live_view(make_round()).to_dict()
    (old,) = [i for i in data["items"] if i["id"] == metric.id]
    del old["comparators"]  # as snapshots were written before comparator series
    old["details"].update(comparator_label="Nearest neighbours average", comparator_value=86.0)
    item = RoundView.from_dict(data).items[metric.id]
    assert [(c.name, [(p.label, p.value) for p in c.points]) for c in item.comparators] == [
        ("Nearest neighbours average", [("2026 Q3", 86.0)])  # at the latest value, as the migration keeps it
    ]
    assert "comparator_label" not in item.details and "comparator_value" not in item.details
