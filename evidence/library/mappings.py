"""Mapping evidence onto quality statements, with the audit trail kept."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from evidence import audit
from evidence.assessment.round_lock import lock_open_rounds
from evidence.db import db
from evidence.models import EvidenceCategory, EvidenceItem, Mapping, QualityStatement, User
from evidence.vocab import Stance

# What the audit trail keeps of a mapping.
AUDITED_FIELDS = ["item_id", "statement_id", "category_id", "stance", "note"]


class MappingError(ValueError):
    pass


def item_mappings(item: EvidenceItem) -> list[Mapping]:
    """The item's mappings in framework order (by statement, then category), their statement and category
    loaded: the one order in which a reader, a reviewer and a curator see them."""
    return db.session.scalars(
        select(Mapping)
        .where(Mapping.item_id == item.id)
        .options(selectinload(Mapping.statement), selectinload(Mapping.category))
        .join(QualityStatement, QualityStatement.id == Mapping.statement_id)
        .join(EvidenceCategory, EvidenceCategory.id == Mapping.category_id)
        .order_by(QualityStatement.position, EvidenceCategory.position)
    ).all()


def _find(item_id: int, statement_id: int, category_id: int) -> Mapping | None:
    return db.session.scalar(
        select(Mapping).where(
            Mapping.item_id == item_id, Mapping.statement_id == statement_id, Mapping.category_id == category_id
        )
    )


def new_mapping(
    item: EvidenceItem,
    statement: QualityStatement,
    category: EvidenceCategory,
    stance: str,
    note: str = "",
    user: User | None = None,
) -> Mapping:
    """A mapping of ``item``, added to its mappings (and so to the session with it), not yet written.
    ``add_mapping`` checks, writes and records one; an import that writes many in one transaction records
    each with ``record_mapping``."""
    mapping = Mapping(
        statement=statement,
        category=category,
        stance=stance,
        note=(note or "").strip(),
        created_by_id=user.id if user else None,
    )
    item.mappings.append(mapping)  # from the item's side, so that a saved item takes the new mapping with it
    return mapping


def record_mapping(mapping: Mapping, user: User | None, how: str = "") -> None:
    """The audit event of a new mapping: "Mapped E-12 to … · … (strength)", then ``how`` it came (" by import")."""
    audit.record(
        "create",
        mapping,
        entity_id=mapping.id,  # known once written; an import records thousands without writing each event
        user=user,
        summary=f"Mapped {mapping.item.reference} to {mapping.statement.name} · {mapping.category.name} "
        f"as {mapping.stance_label.lower()}{how}",
        after=audit.snapshot(mapping, AUDITED_FIELDS),
    )


def add_mapping(
    item: EvidenceItem,
    statement: QualityStatement,
    category: EvidenceCategory,
    stance: str,
    note: str = "",
    user: User | None = None,
) -> Mapping:
    """Map an item to a statement under a category. One mapping per item, statement and category."""
    if stance not in set(Stance):
        raise MappingError(f"stance must be one of {', '.join(Stance)}, not '{stance}'")
    ids = item.id, statement.id, category.id
    already = f"{item.reference} is already mapped to {statement.name} under {category.name}"
    lock_open_rounds()  # every open round's snapshot reads the mappings
    if _find(*ids):
        db.session.rollback()  # ends the transaction, and the lock with it
        raise MappingError(already)
    mapping = new_mapping(item, statement, category, stance, note, user)
    db.session.add(mapping)
    try:
        db.session.flush()
    except IntegrityError as error:  # the same mapping, added by someone else a moment ago
        db.session.rollback()
        if _find(*ids):
            raise MappingError(already) from error
        raise MappingError("the item, statement or category changed while this was being saved; try again") from error
    record_mapping(mapping, user)
    # The item's own trail shows its mappings too.
    audit.record(
        "map", item, user=user, summary=f"Mapped to {statement.name} · {category.name} as {Stance(stance).label}"
    )
    db.session.commit()
    return mapping


def remove_mapping(mapping: Mapping, user: User | None = None) -> None:
    """Remove a mapping; MappingError when someone else removed it first."""
    item, statement, category = mapping.item, mapping.statement, mapping.category
    gone = f"{item.reference} is no longer mapped to {statement.name} under {category.name}: someone removed it already"
    lock_open_rounds()
    # Locks the row too, so that of two people removing it at once the second finds it gone.
    if db.session.scalar(select(Mapping.id).where(Mapping.id == mapping.id).with_for_update()) is None:
        db.session.rollback()
        raise MappingError(gone)
    before = audit.snapshot(mapping, AUDITED_FIELDS)
    audit.record(
        "delete",
        mapping,
        user=user,
        summary=f"Removed mapping of {item.reference} to {statement.name} · {category.name}",
        before=before,
    )
    audit.record("unmap", item, user=user, summary=f"Unmapped from {statement.name} · {category.name}")
    db.session.delete(mapping)
    db.session.commit()
