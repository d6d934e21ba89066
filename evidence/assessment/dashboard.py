"""What the dashboard shows, each part from a fixed number of aggregate queries.

However large the portfolio, the dashboard costs the same handful of queries:
the evidence summary, the scores of two rounds, the score history and three counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from evidence.db import db
from evidence.models import Assessment, EvidenceItem, QualityStatement, Round, today
from evidence.vocab import Status


@dataclass(frozen=True)
class Waiting:
    submitted: int
    stale: int
    overdue_actions: int
    unscored: int


def waiting(unscored: int, overdue_actions: int, on: date | None = None) -> Waiting:
    """Counts of work waiting; the caller already holds the unscored and overdue figures."""
    on = on or today()
    submitted = db.session.scalar(select(func.count(EvidenceItem.id)).where(EvidenceItem.status == Status.SUBMITTED))
    stale = db.session.scalar(
        select(func.count(EvidenceItem.id)).where(EvidenceItem.status == Status.ACCEPTED, EvidenceItem.review_by < on)
    )
    return Waiting(submitted=submitted, stale=stale, overdue_actions=overdue_actions, unscored=unscored)


@dataclass(frozen=True)
class ScoreHistory:
    rounds: list[Round]
    scores: dict[str, list[int | None]]  # statement key → score in each round, oldest first


def score_history(limit: int = 8) -> ScoreHistory:
    """Each statement's score across the most recent rounds, in two queries."""
    rounds = list(reversed(db.session.scalars(select(Round).order_by(Round.id.desc()).limit(limit)).all()))
    keys = db.session.scalars(select(QualityStatement.key).order_by(QualityStatement.position)).all()
    scores = {key: [None] * len(rounds) for key in keys}
    if rounds:
        column = {r.id: i for i, r in enumerate(rounds)}
        rows = db.session.execute(
            select(Assessment.round_id, QualityStatement.key, Assessment.score)
            .join(QualityStatement, QualityStatement.id == Assessment.statement_id)
            .where(Assessment.round_id.in_(column))
        )
        for round_id, key, score in rows:
            scores[key][column[round_id]] = score
    return ScoreHistory(rounds, scores)
