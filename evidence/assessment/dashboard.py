"""What the dashboard shows, each part from a fixed number of aggregate queries.

However large the portfolio, the dashboard costs the same handful of queries:
the evidence summary, the scores of two rounds, the score history and three counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import func, select

from evidence.assessment.actions import overdue_by_statement
from evidence.assessment.rollup import RoundResult, round_result, scores_for
from evidence.assessment.rounds import current_round, previous_round
from evidence.assessment.summary import Cell, live_summary
from evidence.db import db
from evidence.framework_sync import categories
from evidence.models import Assessment, EvidenceItem, QualityStatement, Round, today
from evidence.portfolio_cache import figure
from evidence.vocab import RoundStatus, Status
from quality_statements import scoring
from quality_statements.loader import EvidenceCategory


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
    rounds: list  # Round rows, or RoundRefs in the kept figures
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


# --- Everything the dashboard shows, kept per portfolio version -------------------------------------


@dataclass(frozen=True)
class RoundRef:
    """What the dashboard says of a round: plain values, so the figures can be kept beyond the session."""

    id: int
    name: str
    status: str
    signed_off_at: datetime | None

    @classmethod
    def of(cls, round_: Round | None) -> RoundRef | None:
        return None if round_ is None else cls(round_.id, round_.name, round_.status, round_.signed_off_at)

    @property
    def status_label(self) -> str:
        return RoundStatus(self.status).label


@dataclass(frozen=True)
class DashboardFigures:
    result: RoundResult  # of the current round, its ``round`` a RoundRef
    previous: RoundRef | None
    movement: dict[str, str | None]
    summary: dict[tuple[str, str], Cell]
    categories: list[EvidenceCategory]  # the framework's plain record of each, not the stored row
    waiting: Waiting
    overdue: Counter
    history: ScoreHistory  # its rounds RoundRefs


@figure("dashboard")
def figures() -> DashboardFigures:
    """The dashboard's figures for the portfolio as it stands today: the same few queries at any size."""
    on = today()
    round_ = current_round()
    result = round_result(round_)
    previous = previous_round(round_)
    previous_scores = scores_for(previous) if previous else {}
    overdue = overdue_by_statement(round_, on=on)
    history = score_history()
    return DashboardFigures(
        result=replace(result, round=RoundRef.of(round_)),
        previous=RoundRef.of(previous),
        movement={key: scoring.movement(previous_scores.get(key), score) for key, score in result.scores.items()},
        summary=dict(live_summary(on)),
        categories=[EvidenceCategory(c.key, c.name) for c in categories()],
        waiting=waiting(unscored=len(result.overall.missing), overdue_actions=overdue.total(), on=on),
        overdue=overdue,
        history=ScoreHistory([RoundRef.of(r) for r in history.rounds], history.scores),
    )
