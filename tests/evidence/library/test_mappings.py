"""Mapping evidence onto quality statements: one mapping per item, statement and category, every change audited."""

import pytest
from sqlalchemy import func, select

from evidence import audit
from evidence.db import db
from evidence.library.mappings import (
    MappingError,
    add_mapping,
    item_mappings,
    new_mapping,
    record_mapping,
    remove_mapping,
)
from evidence.models import Mapping
from evidence.vocab import Role, Stance
from tests.factories import category, make_item, statement


@pytest.fixture
def lead(make_user):
    return make_user(Role.QUALITY_LEAD, name="Lena Lead")


def mapping_count() -> int:
    return db.session.scalar(select(func.count(Mapping.id)))


def test_a_mapping_is_kept_with_its_stance_and_note_and_shows_in_both_trails(app, lead):
    item = make_item("Carers survey")
    mapping = add_mapping(
        item, statement("equity"), category("peoples-experience"), Stance.STRENGTH, "  Up on last year  ", user=lead
    )
    assert (mapping.stance, mapping.note, mapping.created_by_id) == ("strength", "Up on last year", lead.id)
    [created] = audit.history("mapping", mapping.id)
    assert created.action == "create" and created.user_id == lead.id
    assert created.summary == f"Mapped {item.reference} to {statement('equity').name} · People's experience as strength"
    assert created.after["note"] == "Up on last year"
    assert [e.action for e in audit.history("evidence_item", item.id)] == ["map"]


def test_the_same_mapping_twice_is_refused_naming_it_and_keeps_one(app, lead):
    item = make_item("Carers survey")
    add_mapping(item, statement("equity"), category("partners"), Stance.CONTEXT, user=lead)
    with pytest.raises(MappingError, match=r"already mapped to .* under Feedback from partners"):
        add_mapping(item, statement("equity"), category("partners"), Stance.STRENGTH, user=lead)
    assert mapping_count() == 1
    # The same statement under another category is another mapping.
    add_mapping(item, statement("equity"), category("processes"), Stance.STRENGTH, user=lead)
    assert mapping_count() == 2


def test_a_stance_outside_the_vocabulary_is_refused(app, lead):
    item = make_item("Carers survey")
    with pytest.raises(MappingError, match="stance must be one of"):
        add_mapping(item, statement("equity"), category("partners"), "glowing", user=lead)
    assert mapping_count() == 0


def test_removing_a_mapping_is_audited_on_the_mapping_and_the_item(app, lead):
    item = make_item("Carers survey", mappings=[("equity", "partners", Stance.CONTEXT)])
    mapping = item.mappings[0]
    mapping_id = mapping.id
    remove_mapping(mapping, user=lead)
    assert mapping_count() == 0
    [deleted] = audit.history("mapping", mapping_id)
    assert deleted.action == "delete" and deleted.before["stance"] == "context"
    assert [e.action for e in audit.history("evidence_item", item.id)] == ["unmap"]


def test_an_items_mappings_are_read_in_framework_order_whatever_order_they_were_added_in(app, lead):
    item = make_item("Carers survey")
    for statement_key, category_key in (
        ("learning", "processes"),
        ("assessing-needs", "processes"),
        ("learning", "peoples-experience"),
        ("equity", "partners"),
    ):
        add_mapping(item, statement(statement_key), category(category_key), Stance.CONTEXT, user=lead)
    order = [(m.statement.position, m.category.position) for m in item_mappings(item)]
    assert order == sorted(order) and len(order) == 4
    assert item_mappings(item)[0].statement.key == "assessing-needs"


def test_a_mapping_an_import_writes_is_recorded_saying_how_it_came(app, lead):
    item = make_item("Carers survey")
    mapping = new_mapping(item, statement("equity"), category("partners"), Stance.SHORTFALL, user=lead)
    db.session.flush()  # written with the item it belongs to, though never added to the session itself
    record_mapping(mapping, lead, " by import")
    db.session.commit()
    assert mapping_count() == 1
    [event] = audit.history("mapping", mapping.id)
    assert event.summary.endswith("as shortfall by import") and event.after["item_id"] == item.id
    assert audit.history("evidence_item", item.id) == []  # the import records the item's own event itself
