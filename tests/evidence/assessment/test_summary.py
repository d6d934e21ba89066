"""The evidence counts behind the dashboard's heat map and the gaps page."""

from datetime import timedelta

from evidence.assessment.summary import Cell, EvidenceCount, evidence_counts, live_summary
from evidence.models import today
from evidence.vocab import Stance, Status
from tests.factories import make_item

PAST = today() - timedelta(days=1)


def test_counts_accepted_evidence_by_statement_category_and_stance(app):
    make_item("fresh strength", mappings=[("safe-pathways", "partners", Stance.STRENGTH)])
    make_item(
        "stale shortfall, mapped twice",
        review_by=PAST,
        mappings=[
            ("safe-pathways", "partners", Stance.SHORTFALL),
            ("equity", "processes", Stance.CONTEXT),
        ],
    )
    make_item("fresh context", mappings=[("equity", "processes", Stance.CONTEXT)])
    # Not accepted, so not counted, even though mapped and past its review date.
    for status in (Status.SUBMITTED, Status.RETURNED):
        make_item(
            f"{status} item",
            status=status,
            review_by=PAST,
            mappings=[
                ("safe-pathways", "partners", Stance.STRENGTH),
                ("partnerships", "staff-leaders", Stance.STRENGTH),
            ],
        )

    summary = live_summary()

    assert summary[("safe-pathways", "partners")] == Cell(total=2, stale=1, strengths=1, shortfalls=1, context=0)
    assert summary[("equity", "processes")] == Cell(total=2, stale=1, strengths=0, shortfalls=0, context=2)
    assert ("partnerships", "staff-leaders") not in summary  # only items not accepted are mapped there
    assert summary.statement_total("safe-pathways").fresh == 1


def test_staleness_is_judged_on_the_day_asked(app):
    make_item("due in ten days", review_by=today() + timedelta(days=10), mappings=[("equity", "partners", "strength")])
    assert live_summary()[("equity", "partners")].stale == 0
    assert live_summary(on=today() + timedelta(days=11))[("equity", "partners")].stale == 1


def test_statement_counts_are_distinct_accepted_items(app):
    make_item(
        "mapped twice to one statement",
        review_by=PAST,
        mappings=[("equity", "partners", Stance.STRENGTH), ("equity", "processes", Stance.CONTEXT)],
    )
    make_item("fresh", mappings=[("equity", "partners", Stance.SHORTFALL), ("safe-pathways", "partners", "context")])
    make_item("submitted", status=Status.SUBMITTED, mappings=[("equity", "partners", Stance.STRENGTH)])
    make_item("returned only", status=Status.RETURNED, mappings=[("partnerships", "partners", Stance.STRENGTH)])

    counts = evidence_counts()

    assert counts["equity"] == EvidenceCount(items=2, stale=1)
    assert counts["safe-pathways"] == EvidenceCount(items=1, stale=0)
    assert "partnerships" not in counts
