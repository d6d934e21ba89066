"""The self-assessment roll-up for a round, from the pure scoring module."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from evidence.db import db
from evidence.fields import ASSESSMENT_TEXTS
from evidence.framework_sync import statements_by_theme
from evidence.models import Assessment, QualityStatement, Round, Theme
from quality_statements import scoring


def current_round() -> Round | None:
    """The newest open round, or else the newest round."""
    open_round = db.session.scalar(select(Round).where(Round.status == "open").order_by(Round.id.desc()).limit(1))
    return open_round or db.session.scalar(select(Round).order_by(Round.id.desc()).limit(1))


def scores_for(round_: Round | None) -> dict[str, int | None]:
    """Statement key → score (None when unscored) for every statement in the framework."""
    keys = db.session.scalars(select(QualityStatement.key)).all()
    scores: dict[str, int | None] = dict.fromkeys(keys)
    if round_ is not None:
        rows = db.session.execute(
            select(QualityStatement.key, Assessment.score)
            .join(Assessment, Assessment.statement_id == QualityStatement.id)
            .where(Assessment.round_id == round_.id)
        )
        scores.update({key: score for key, score in rows})
    return scores


def assessment_texts(round_: Round | None) -> list[tuple[str, int | None, tuple[str, ...]]]:
    """(statement key, score, the texts of ``ASSESSMENT_TEXTS``) for each assessment in the round, in one query."""
    if round_ is None:
        return []
    rows = db.session.execute(
        select(QualityStatement.key, Assessment.score, *(getattr(Assessment, name) for name in ASSESSMENT_TEXTS))
        .join(Assessment, Assessment.statement_id == QualityStatement.id)
        .where(Assessment.round_id == round_.id)
    )
    return [(key, score, tuple(texts)) for key, score, *texts in rows]


@dataclass(frozen=True)
class ThemeResult:
    theme: Theme
    statements: list[QualityStatement]
    result: scoring.RollUp


@dataclass(frozen=True)
class RoundResult:
    round: Round | None
    scores: dict[str, int | None]
    themes: list[ThemeResult]
    overall: scoring.RollUp
    names: dict[str, str]

    def missing_names(self, rollup: scoring.RollUp) -> list[str]:
        return [self.names[key] for key in rollup.missing]


def round_result(round_: Round | None) -> RoundResult:
    grouped = statements_by_theme()
    scores = scores_for(round_)
    framework = scoring.roll_up_framework({t.key: [s.key for s in ss] for t, ss in grouped}, scores)
    return RoundResult(
        round=round_,
        scores=scores,
        themes=[ThemeResult(theme, ss, framework.themes[theme.key]) for theme, ss in grouped],
        overall=framework.overall,
        names={s.key: s.name for _, ss in grouped for s in ss},
    )
