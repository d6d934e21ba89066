"""Counts of accepted evidence per quality statement and evidence category.

A few aggregate queries, whatever the size of the portfolio: the dashboard's heat
map, the gaps check and the statements overview read these rather than loading items.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from evidence.db import db
from evidence.models import EvidenceCategory, EvidenceItem, Mapping, QualityStatement, today
from evidence.vocab import Stance, Status

NOT_ACCEPTED = [status for status in Status if status != Status.ACCEPTED]


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


@dataclass
class Count:
    total: int = 0
    stale: int = 0


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


def keys_by_id(model) -> dict[int, str]:
    """A framework table's keys by row id (a handful of rows)."""
    return dict(db.session.execute(select(model.id, model.key)).all())


def mapping_counts(on: date | None = None, statement_id: int | None = None) -> dict[tuple[int, int, str], Count]:
    """(statement id, category id, stance) → accepted items mapped there, and how many are stale.

    Counted as every mapping, less those of items not accepted (few), with the stale
    ones found from the items past their review date (few). Each of the three queries
    reads an index, where joining every mapping to its item would read the whole table.
    """
    on = on or today()
    group = (Mapping.statement_id, Mapping.category_id, Mapping.stance)
    counted = select(*group, func.count()).group_by(*group)
    if statement_id is not None:
        counted = counted.where(Mapping.statement_id == statement_id)
    counts: dict[tuple[int, int, str], Count] = defaultdict(Count)
    for query, sign, stale in (
        (counted, 1, False),
        (counted.where(_item_is(EvidenceItem.status.in_(NOT_ACCEPTED))), -1, False),
        (counted.where(_item_is(_stale(on))), 1, True),
    ):
        for statement, category, stance, n in db.session.execute(query):
            count = counts[(statement, category, stance)]
            if stale:
                count.stale += n
            else:
                count.total += sign * n
    return {key: count for key, count in counts.items() if count.total}


def live_summary(on: date | None = None) -> Summary:
    """Accepted evidence per (statement, category): totals, stale counts and stances."""
    statement_keys, category_keys = keys_by_id(QualityStatement), keys_by_id(EvidenceCategory)
    summary = Summary()
    for (statement_id, category_id, stance), count in mapping_counts(on).items():
        cell = summary[(statement_keys[statement_id], category_keys[category_id])]
        cell.add(stance, False, count.total)
        cell.stale += count.stale
    return summary


@dataclass(frozen=True)
class EvidenceCount:
    items: int = 0
    stale: int = 0


def evidence_counts(on: date | None = None) -> dict[str, EvidenceCount]:
    """Statement key → distinct accepted items mapped to it, and how many of them are stale.

    Counted the same way as ``live_summary``: every (statement, item) pair, less those of
    items not accepted, and the stale ones from the items past their review date.
    """
    on = on or today()
    pairs = select(Mapping.statement_id, Mapping.item_id).distinct()
    every = pairs.subquery()
    not_accepted = pairs.where(_item_is(EvidenceItem.status.in_(NOT_ACCEPTED))).subquery()
    stale = pairs.where(_item_is(_stale(on))).subquery()

    statement_keys = keys_by_id(QualityStatement)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sub, index, sign in ((every, 0, 1), (not_accepted, 0, -1), (stale, 1, 1)):
        query = select(sub.c.statement_id, func.count()).group_by(sub.c.statement_id)
        for statement_id, n in db.session.execute(query):
            totals[statement_keys[statement_id]][index] += sign * n
    return {key: EvidenceCount(items, stale) for key, (items, stale) in totals.items() if items}


def _item_is(*conditions):
    """Mappings of the items meeting the conditions: an IN list of their ids (a few hundred),
    which reads far less than joining every mapping to its item."""
    return Mapping.item_id.in_(select(EvidenceItem.id).where(*conditions))


def _stale(on: date):
    return (EvidenceItem.status == Status.ACCEPTED) & (EvidenceItem.review_by < on)
