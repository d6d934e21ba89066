"""The same write by several people at the same moment: one wins, every other gets a message, nothing
is lost or doubled, and no database error escapes. Runs on SQLite and, with TEST_DATABASE_URL, on
PostgreSQL (where the writers really do overlap, so the unique and version checks are what catch them).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from evidence.assessment.rounds import RoundError, RoundFrozenError, create_round, sign_off
from evidence.db import db
from evidence.library import items
from evidence.library.mappings import MappingError, add_mapping, remove_mapping
from evidence.library.metrics import MetricError, add_point
from evidence.models import (
    AuditEvent,
    EvidenceCategory,
    EvidenceItem,
    Mapping,
    MetricPoint,
    QualityStatement,
    Round,
    User,
)
from evidence.vocab import Kind, Role, Status
from tests.factories import category, make_item, make_round, statement
from tests.threads import run_together

WRITERS = 6


@pytest.fixture
def lead_ids(make_user):
    return [make_user(Role.QUALITY_LEAD, name=f"Lead {n}").id for n in range(WRITERS)]


@pytest.fixture(params=["no open round", "an open round"])
def rounds(request, app):
    """With an open round every write also takes the round lock; without one it takes none."""
    if request.param == "an open round":
        make_round("Open while people write")


def _audit_count(entity_type: str, action: str) -> int:
    return db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.entity_type == entity_type, AuditEvent.action == action)
    )


def _split(outcomes: list[object], error: type[Exception]) -> tuple[list[object], list[Exception]]:
    unexpected = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, error)]
    assert unexpected == [], unexpected
    return [o for o in outcomes if not isinstance(o, error)], [o for o in outcomes if isinstance(o, error)]


def test_the_same_metric_period_added_at_once_is_kept_once(app, rounds, lead_ids):
    metric_id = make_item("Reviews on time", kind=Kind.METRIC, direction="higher").id

    def adds(n: int):
        def load():
            metric, user = db.session.get(EvidenceItem, metric_id), db.session.get(User, lead_ids[n])
            return lambda: add_point(metric, "2026-09", 50.0 + n, user).value

        return load

    won, lost = _split(run_together(app, [adds(n) for n in range(WRITERS)]), MetricError)
    assert len(won) == 1 and len(lost) == WRITERS - 1
    assert all(f"Sep 2026 already has a value ({won[0]:g})" in str(e) for e in lost)
    db.session.expire_all()
    assert db.session.scalars(select(MetricPoint.value)).all() == won
    assert _audit_count("evidence_item", "add_point") == 1


def test_the_same_period_replaced_at_once_records_every_change(app, rounds, lead_ids):
    metric_id = make_item("Reviews on time", kind=Kind.METRIC, direction="higher").id

    def replaces(n: int):
        def load():
            metric, user = db.session.get(EvidenceItem, metric_id), db.session.get(User, lead_ids[n])

            def act():
                add_point(metric, "2026 Q3", 10.0 + n, user, replace=True)
                return 10.0 + n  # the point itself may already hold a later writer's value

            return act

        return load

    saved, refused = _split(run_together(app, [replaces(n) for n in range(WRITERS)]), MetricError)
    assert refused == [] and sorted(saved) == [10.0 + n for n in range(WRITERS)]
    db.session.expire_all()
    (point,) = db.session.scalars(select(MetricPoint)).all()
    assert point.label == "2026 Q3" and point.value in saved
    # One addition and a change for each of the others, whichever order they came in: none is lost.
    assert _audit_count("evidence_item", "add_point") == 1
    assert _audit_count("evidence_item", "update_point") == WRITERS - 1


def test_the_same_mapping_added_at_once_is_kept_once(app, rounds, lead_ids):
    item_id = make_item("Carers survey").id
    statement_id, category_id = statement("equity").id, category("partners").id

    def maps(n: int):
        def load():
            item, user = db.session.get(EvidenceItem, item_id), db.session.get(User, lead_ids[n])
            s, c = db.session.get(QualityStatement, statement_id), db.session.get(EvidenceCategory, category_id)
            return lambda: add_mapping(item, s, c, "strength", f"Note {n}", user=user).note

        return load

    won, lost = _split(run_together(app, [maps(n) for n in range(WRITERS)]), MappingError)
    assert len(won) == 1 and len(lost) == WRITERS - 1
    assert all(f"E-{item_id} is already mapped to" in str(e) for e in lost)
    db.session.expire_all()
    assert db.session.scalars(select(Mapping.note)).all() == won
    assert _audit_count("mapping", "create") == 1 and _audit_count("evidence_item", "map") == 1


def test_the_same_mapping_removed_at_once_is_removed_once(app, rounds, lead_ids):
    item = make_item("Carers survey", mappings=[("equity", "partners", "strength")])
    mapping_id = item.mappings[0].id

    def removes(n: int):
        def load():
            mapping, user = db.session.get(Mapping, mapping_id), db.session.get(User, lead_ids[n])
            return lambda: remove_mapping(mapping, user=user)

        return load

    done, lost = _split(run_together(app, [removes(n) for n in range(WRITERS)]), MappingError)
    assert len(done) == 1 and len(lost) == WRITERS - 1
    assert all("no longer mapped" in str(e) for e in lost)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Mapping.id))) == 0
    assert _audit_count("mapping", "delete") == 1 and _audit_count("evidence_item", "unmap") == 1


@pytest.mark.parametrize("how", ["save", "accept"])
def test_one_review_item_saved_at_one_version_keeps_the_first_and_shows_it_to_the_rest(app, rounds, lead_ids, how):
    item = make_item("Carers feel listened to", status=Status.SUBMITTED, survey_name="SACE", result_percent=61.0)
    item_id, version = item.id, item.version

    def reviews(n: int):
        def load():
            item, user = db.session.get(EvidenceItem, item_id), db.session.get(User, lead_ids[n])
            changes = {"title": f"Retitled by lead {n}"}
            if how == "accept":
                return lambda: items.accept_item(item, user=user, changes=changes, expected_version=version).title
            return lambda: items.update_item(item, changes, user=user, expected_version=version).title

        return load

    won, lost = _split(run_together(app, [reviews(n) for n in range(WRITERS)]), items.VersionConflict)
    assert len(won) == 1 and len(lost) == WRITERS - 1
    db.session.expire_all()
    item = db.session.get(EvidenceItem, item_id)
    assert item.title == won[0] and item.version == version + 1
    winner = lead_ids[int(won[0].rsplit(" ", 1)[1])]
    for conflict in lost:
        assert "changed by someone else while you were editing it" in str(conflict)
        theirs = conflict.theirs
        assert (theirs.version, theirs.values["title"], theirs.changed_by) == (
            version + 1,
            won[0],
            db.session.get(User, winner).name,
        )
        assert theirs.status == (Status.ACCEPTED if how == "accept" else Status.SUBMITTED)
        assert [name for name, _, _ in theirs.differences({"title": "Retitled by somebody else"})] == ["title"]
    assert _audit_count("evidence_item", "accept" if how == "accept" else "update") == 1


def test_the_same_round_name_created_at_once_makes_one_round(app, lead_ids):
    def creates(n: int):
        def load():
            user = db.session.get(User, lead_ids[n])
            return lambda: create_round("Spring 2027 self-assessment", user).id

        return load

    won, lost = _split(run_together(app, [creates(n) for n in range(WRITERS)]), RoundError)
    assert len(won) == 1 and len(lost) == WRITERS - 1
    assert all("There is already a round called “Spring 2027 self-assessment”" in str(e) for e in lost)
    db.session.expire_all()
    assert db.session.scalars(select(Round.id)).all() == won
    assert _audit_count("round", "create") == 1


def test_one_round_signed_off_by_several_managers_at_once_is_signed_off_once(app, make_user):
    manager_ids = [make_user(Role.MANAGER, name=f"Manager {n}").id for n in range(WRITERS)]
    round_id = make_round("Winter 2026 self-assessment", scores={"equity": 3}).id

    def signs(n: int):
        def load():
            round_, manager = db.session.get(Round, round_id), db.session.get(User, manager_ids[n])
            return lambda: sign_off(round_, manager, confirmed=True).signed_off_by_id

        return load

    won, lost = _split(run_together(app, [signs(n) for n in range(WRITERS)]), RoundFrozenError)
    assert len(won) == 1 and len(lost) == WRITERS - 1
    assert all("“Winter 2026 self-assessment” was signed off on" in str(e) for e in lost)
    db.session.expire_all()
    round_ = db.session.get(Round, round_id)
    assert round_.signed_off_by_id == won[0] and round_.snapshot["signed_off_by"] == round_.signed_off_by.name
    assert _audit_count("round", "sign_off") == 1
