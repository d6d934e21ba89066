"""The self-assessment roll-up for a round, from the pure scoring module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from evidence.db import db
from evidence.fields import ASSESSMENT_TEXTS
from evidence.framework_sync import statements_by_theme
from evidence.models import Assessment, QualityStatement, Round
from quality_statements import scoring


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
class StatementScore:
    key: str
    name: str
    score: int | None

    @property
    def label(self) -> str:
        return scoring.label_for(self.score)


@dataclass(frozen=True)
class ThemeResult:
    """A theme's statements, in framework order, and its indicative roll-up.

    ``statements`` are ``StatementScore`` rows, or rows that say more about each statement
    (``assessments.StatementRow``) for the pages that show more."""

    key: str
    name: str
    statements: list[Any]
    result: scoring.RollUp


@dataclass(frozen=True)
class RoundResult:
    """A round's scores rolled up by theme and overall: live, or from its sign-off snapshot (``frozen``)."""

    round: Round | None
    scores: dict[str, int | None]
    themes: list[ThemeResult]
    overall: scoring.RollUp
    names: dict[str, str]
    frozen: bool = False

    def missing_names(self, rollup: scoring.RollUp) -> list[str]:
        return [self.names.get(key, key) for key in rollup.missing]


def rolled_up(
    round_: Round | None,
    themes: list[tuple[str, str, list[tuple[str, str]]]],
    scores: dict[str, int | None],
    *,
    frozen: bool = False,
) -> RoundResult:
    """The result of ``scores`` over ``themes``: (theme key, theme name, [(statement key, name)]) in order."""
    framework = scoring.roll_up_framework({key: [s for s, _ in ss] for key, _, ss in themes}, scores)
    return RoundResult(
        round=round_,
        scores=scores,
        themes=[
            ThemeResult(key, name, [StatementScore(s, n, scores.get(s)) for s, n in ss], framework.themes[key])
            for key, name, ss in themes
        ],
        overall=framework.overall,
        names={s: n for _, _, ss in themes for s, n in ss},
        frozen=frozen,
    )


def round_result(round_: Round | None) -> RoundResult:
    """The round's scores as they stand in the database, in the framework as it stands."""
    themes = [(t.key, t.name, [(s.key, s.name) for s in ss]) for t, ss in statements_by_theme()]
    return rolled_up(round_, themes, scores_for(round_))
