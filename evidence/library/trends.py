"""Metric trends for a quality statement's page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from evidence.db import db
from evidence.models import ComparatorSeries, EvidenceItem, Mapping, QualityStatement
from evidence.vocab import Kind, Status


def metrics_for_statement(statement: QualityStatement, limit: int = 6) -> list[EvidenceItem]:
    """The accepted metrics mapped to a statement, most recently updated first, with their points and comparators."""
    mapped = select(Mapping.item_id).where(Mapping.statement_id == statement.id)
    return db.session.scalars(
        select(EvidenceItem)
        .where(EvidenceItem.id.in_(mapped), EvidenceItem.kind == Kind.METRIC, EvidenceItem.status == Status.ACCEPTED)
        .options(
            selectinload(EvidenceItem.points),
            selectinload(EvidenceItem.comparators).selectinload(ComparatorSeries.points),
        )
        .order_by(EvidenceItem.updated_at.desc(), EvidenceItem.id.desc())
        .limit(limit)
    ).all()
