"""Counts of accepted evidence per quality statement and evidence category.

One aggregate query, whatever the size of the portfolio: the dashboard's heat
map and the gaps check both read this rather than loading items.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select

from evidence.db import db
from evidence.models import EvidenceCategory, EvidenceItem, Mapping, QualityStatement, today
from evidence.vocab import Stance, Status


@dataclass
class Cell:
    """Accepted evidence mapped to one statement under one category."""

    total: int = 0
    stale: int = 0
    strengths: int = 0
    shortfalls: int = 0
    context: int = 0

    @property
    def fresh(self) -> int:
        return self.total - self.stale

    def add(self, stance: str, stale: bool, n: int = 1) -> None:
        self.total += n
        self.stale += n if stale else 0
        if stance == Stance.STRENGTH:
            self.strengths += n
        elif stance == Stance.SHORTFALL:
            self.shortfalls += n
        else:
            self.context += n


class Summary(defaultdict):
    """(statement key, category key) → Cell; missing cells read as empty."""

    def __init__(self):
        super().__init__(Cell)

    def statement_total(self, statement_key: str) -> Cell:
        out = Cell()
        for (s_key, _), cell in self.items():
            if s_key == statement_key:
                out.total += cell.total
                out.stale += cell.stale
                out.strengths += cell.strengths
                out.shortfalls += cell.shortfalls
                out.context += cell.context
        return out


def live_summary(on: date | None = None) -> Summary:
    on = on or today()
    is_stale = case((EvidenceItem.review_by < on, True), else_=False)
    rows = db.session.execute(
        select(QualityStatement.key, EvidenceCategory.key, Mapping.stance, is_stale, func.count(Mapping.id))
        .join(Mapping, Mapping.statement_id == QualityStatement.id)
        .join(EvidenceCategory, EvidenceCategory.id == Mapping.category_id)
        .join(EvidenceItem, EvidenceItem.id == Mapping.item_id)
        .where(EvidenceItem.status == Status.ACCEPTED)
        .group_by(QualityStatement.key, EvidenceCategory.key, Mapping.stance, is_stale)
    )
    summary = Summary()
    for statement_key, category_key, stance, stale, n in rows:
        summary[(statement_key, category_key)].add(stance, bool(stale), n)
    return summary
