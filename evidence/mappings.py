"""Mapping evidence onto quality statements, with the audit trail kept."""

from __future__ import annotations

from sqlalchemy import select

from evidence import audit
from evidence.db import db
from evidence.models import EvidenceCategory, EvidenceItem, Mapping, QualityStatement, User
from evidence.vocab import Stance


class MappingError(ValueError):
    pass


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
    exists = db.session.scalar(
        select(Mapping).where(
            Mapping.item_id == item.id, Mapping.statement_id == statement.id, Mapping.category_id == category.id
        )
    )
    if exists:
        raise MappingError(f"{item.reference} is already mapped to {statement.name} under {category.name}")
    mapping = Mapping(
        item=item,
        statement=statement,
        category=category,
        stance=stance,
        note=(note or "").strip(),
        created_by_id=user.id if user else None,
    )
    db.session.add(mapping)
    db.session.flush()
    audit.record(
        "create",
        mapping,
        user=user,
        summary=f"Mapped {item.reference} to {statement.name} · {category.name} ({stance})",
        after=audit.snapshot(mapping, ["item_id", "statement_id", "category_id", "stance", "note"]),
    )
    # The item's own trail shows its mappings too.
    audit.record(
        "map", item, user=user, summary=f"Mapped to {statement.name} · {category.name} as {Stance(stance).label}"
    )
    db.session.commit()
    return mapping


def remove_mapping(mapping: Mapping, user: User | None = None) -> None:
    item, statement, category = mapping.item, mapping.statement, mapping.category
    before = audit.snapshot(mapping, ["item_id", "statement_id", "category_id", "stance", "note"])
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
