"""Figures of the self-assessment kept per portfolio version (``evidence.portfolio_cache``).

Thin wrappers over the functions that compute them, so those stay as they are: each takes ids and
keys and keeps plain data; the caller's ORM rows are put back around it.
"""

from __future__ import annotations

from evidence.assessment.assessments import statement_by_key, statements_overview
from evidence.assessment.gaps import Gap, live_gaps
from evidence.assessment.peer import reviews_of
from evidence.assessment.readiness import Concern, Readiness, readiness
from evidence.assessment.rollup import ThemeResult
from evidence.assessment.round_view import PeerReviewView
from evidence.assessment.rounds import current_round
from evidence.db import db
from evidence.models import QualityStatement, Round
from evidence.portfolio_cache import figure
from evidence.together.comments import Thread, statement_threads


def _round(round_id: int | None) -> Round | None:
    return db.session.get(Round, round_id) if round_id is not None else None


def _id(round_: Round | None) -> int | None:
    return round_.id if round_ is not None else None


@figure("gaps")
def _gaps(round_id: int | None) -> list[Gap]:
    return live_gaps(_round(round_id))


def gaps(round_: Round | None) -> list[Gap]:
    """``live_gaps`` of the round."""
    return _gaps(_id(round_))


@figure("statements.overview")
def _overview(round_id: int | None) -> list[ThemeResult]:
    return statements_overview(_round(round_id))


def overview(round_: Round | None) -> list[ThemeResult]:
    """``statements_overview`` of the round."""
    return _overview(_id(round_))


@figure("readiness")
def _concerns(round_id: int) -> list[Concern]:
    return readiness(_round(round_id)).concerns


def readiness_of(round_: Round) -> Readiness:
    """``readiness`` of an open round."""
    return Readiness(round_, _concerns(round_.id))


@figure("rounds.current")
def _current_round_id() -> int | None:
    return _id(current_round())


def current() -> Round | None:
    """``current_round``, its id kept: a page asks for it more than once, and its row is then in the session."""
    return _round(_current_round_id())


@figure("peer.reviews")
def _peer_reviews(round_id: int | None) -> dict[str, PeerReviewView]:
    return reviews_of(_round(round_id))


def peer_reviews(round_: Round | None) -> dict[str, PeerReviewView]:
    """``peer.reviews_of`` the round."""
    return _peer_reviews(_id(round_))


@figure("statement.threads")
def _threads(round_id: int | None, statement_key: str) -> list[Thread]:
    return statement_threads(_round(round_id), statement_by_key(statement_key))


def threads(round_: Round | None, statement: QualityStatement) -> list[Thread]:
    """``comments.statement_threads`` of the statement in the round."""
    return _threads(_id(round_), statement.key)
