"""The audit trail: who changed what, when, with the values before and after, kept as plain JSON."""

from datetime import date, datetime

from evidence import audit
from evidence.db import db
from evidence.models import AuditEvent
from evidence.vocab import Role
from tests.factories import make_item


def test_a_snapshot_holds_plain_values(app):
    item = make_item("Carers survey", period_start=date(2026, 4, 1), suggested_statements=["equity"])
    values = audit.snapshot(item, ["title", "period_start", "suggested_statements", "created_at"])
    assert values["title"] == "Carers survey"
    assert values["period_start"] == "2026-04-01"
    assert values["suggested_statements"] == ["equity"]
    assert datetime.fromisoformat(values["created_at"]) == item.created_at


def test_only_what_changed_is_kept_of_before_and_after(app, make_user):
    lead = make_user(Role.QUALITY_LEAD)
    item = make_item("Carers survey")
    event = audit.record(
        "update",
        item,
        user=lead,
        summary="Edited",
        before={"title": "Old", "source": "Same", "summary": None},
        after={"title": "New", "source": "Same", "summary": ""},
        remote_addr="203.0.113.9",
    )
    db.session.commit()
    stored = db.session.get(AuditEvent, event.id)
    assert (stored.entity_type, stored.entity_id, stored.user_id) == ("evidence_item", item.id, lead.id)
    assert stored.before == {"title": "Old", "summary": None} and stored.after == {"title": "New", "summary": ""}
    assert stored.remote_addr == "203.0.113.9"


def test_an_event_about_a_new_row_learns_its_id_and_commits_with_it(app):
    item = make_item("Carers survey", commit=False)
    event = audit.record("create", item, summary="Submitted")
    assert event.entity_id == item.id is not None
    db.session.rollback()  # the change and its event go together, or neither does
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id))) == 0


def test_an_event_without_a_row_or_a_person_is_kept_too(app):
    audit.record("sign_in_failed", entity_type="app_user", summary="nobody@example.gov.uk")
    db.session.commit()
    [event] = db.session.scalars(db.select(AuditEvent)).all()
    assert (event.entity_type, event.entity_id, event.user_id) == ("app_user", None, None)


def test_a_rows_history_is_its_own_events_newest_first(app):
    item, other = make_item("Carers survey"), make_item("Other")
    for summary in ("first", "second", "third"):
        audit.record("update", item, summary=summary)
    audit.record("update", other, summary="not this one")
    db.session.commit()
    assert [e.summary for e in audit.history("evidence_item", item.id)] == ["third", "second", "first"]
