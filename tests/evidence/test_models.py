"""The data model round-trips through the database, on SQLite and PostgreSQL alike."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from evidence import audit
from evidence.db import db
from evidence.models import Assessment, AuditEvent, EvidenceItem, Mapping, MetricPoint, today
from evidence.vocab import Kind, Stance
from tests.factories import make_action, make_item, make_round, statement


def test_evidence_item_with_points_and_mappings_round_trips(app):
    item = make_item(
        "Over-65s home after discharge",
        kind=Kind.METRIC,
        unit="%",
        direction="higher",
        target=95.0,
        comparators={
            "England average": [(date(2026, 7, 1), "2026 Q3", 82.0), (date(2026, 4, 1), "2026 Q2", 81.0)],
            "Region": [(date(2026, 7, 1), "2026 Q3", 84.0)],
        },
        mappings=[
            ("safe-pathways", "processes", Stance.SHORTFALL),
            ("care-provision", "processes", Stance.CONTEXT),
        ],
        points=[(date(2026, 7, 1), "2026 Q3", 85.0), (date(2026, 4, 1), "2026 Q2", 83.5)],
        suggested_statements=["safe-pathways"],
    )
    item_id = item.id
    db.session.expunge_all()

    loaded = db.session.get(EvidenceItem, item_id)
    assert loaded.reference == f"E-{item_id}"
    assert loaded.kind_label == "Metric"
    assert loaded.target == 95.0
    assert [(s.name, [(p.label, p.value) for p in s.points]) for s in loaded.comparators] == [
        ("England average", [("2026 Q2", 81.0), ("2026 Q3", 82.0)]),  # each series ordered by period
        ("Region", [("2026 Q3", 84.0)]),
    ]
    assert [p.label for p in loaded.points] == ["2026 Q2", "2026 Q3"]  # ordered by period
    assert loaded.latest_point.value == 85.0
    assert {(m.statement.key, m.category.name, m.stance_label) for m in loaded.mappings} == {
        ("safe-pathways", "Processes", "Shortfall"),
        ("care-provision", "Processes", "Context"),
    }
    assert loaded.suggested_statements == ["safe-pathways"]


def test_staleness_follows_the_review_by_date(app):
    fresh = make_item("Fresh", review_by=today() + timedelta(days=1))
    stale = make_item("Stale", review_by=today() - timedelta(days=1))
    assert not fresh.stale and stale.stale
    assert fresh.is_stale(on=today() + timedelta(days=2))


def test_one_mapping_per_item_statement_and_category(app):
    make_item("Twice", mappings=[("safeguarding", "partners", Stance.STRENGTH)])
    item = db.session.scalar(select(EvidenceItem))
    db.session.add(
        Mapping(item=item, statement=statement("safeguarding"), category=item.mappings[0].category, stance="context")
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_one_point_per_metric_period(app):
    item = make_item("Metric", kind=Kind.METRIC, points=[(date(2026, 1, 1), "Jan 2026", 1.0)])
    db.session.add(MetricPoint(item=item, period=date(2026, 1, 1), label="Jan 2026", value=2.0))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_round_assessments_and_actions(app):
    round_ = make_round(scores={"safe-pathways": 3, "equity": None})
    assessment = db.session.scalar(select(Assessment).where(Assessment.score == 3))
    assert assessment.round.name == "Winter 2026 self-assessment" and assessment.statement.name.startswith("Safe")
    overdue = make_action("safe-pathways", due_date=today() - timedelta(days=1))
    done = make_action("safe-pathways", due_date=today() - timedelta(days=1), status="done")
    assert overdue.is_overdue() and not done.is_overdue()
    assert not round_.signed_off and round_.status_label == "Open"


def test_a_stale_version_cannot_overwrite_a_newer_one(app):
    make_round(scores={"safe-pathways": 2})
    assessment = db.session.scalar(select(Assessment))
    assert assessment.version == 1
    # Another writer saves first.
    db.session.execute(Assessment.__table__.update().values(score=3, version=2))
    assessment.score = 4
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()


def test_audit_records_only_what_changed(app):
    item = make_item("Audit me")
    before = audit.snapshot(item, ["title", "summary"])
    item.title = "Audited"
    audit.record("update", item, before=before, after=audit.snapshot(item, ["title", "summary"]), summary="edited")
    db.session.commit()
    event = db.session.scalar(select(AuditEvent))
    assert (event.entity_type, event.entity_id) == ("evidence_item", item.id)
    assert event.before == {"title": "Audit me"} and event.after == {"title": "Audited"}
    assert audit.history("evidence_item", item.id) == [event]
