"""Small builders for test data, so each test states only what it is about."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from evidence.db import db
from evidence.models import (
    Action,
    Assessment,
    ComparatorPoint,
    ComparatorSeries,
    EvidenceCategory,
    EvidenceItem,
    Mapping,
    MetricPoint,
    QualityStatement,
    Round,
    today,
)
from evidence.vocab import Kind, Status


def statement(key: str) -> QualityStatement:
    return db.session.scalar(select(QualityStatement).where(QualityStatement.key == key))


def category(key: str) -> EvidenceCategory:
    return db.session.scalar(select(EvidenceCategory).where(EvidenceCategory.key == key))


def make_item(
    title: str = "Staff survey: confidence with transitions",
    kind: str = Kind.SURVEY,
    status: str = Status.ACCEPTED,
    mappings: list[tuple[str, str, str]] = (),
    points: list[tuple[date, str, float]] = (),
    comparators: dict[str, list[tuple[date, str, float]]] | None = None,
    review_by: date | None = None,
    commit: bool = True,
    **fields,
) -> EvidenceItem:
    """An evidence item; ``mappings`` are (statement key, category key, stance); ``comparators`` name each
    comparator series' (period, label, value) points."""
    fields.setdefault("summary", f"Summary of {title}.")
    fields.setdefault("source", "Workforce team")
    fields.setdefault("period_start", date(2026, 4, 1))
    fields.setdefault("period_end", date(2026, 6, 30))
    item = EvidenceItem(
        kind=kind,
        title=title,
        status=status,
        review_by=review_by or today() + timedelta(days=180),
        **fields,
    )
    for s_key, c_key, stance in mappings:
        item.mappings.append(Mapping(statement=statement(s_key), category=category(c_key), stance=stance, note=""))
    for period, label, value in points:
        item.points.append(MetricPoint(period=period, label=label, value=value))
    for name, series_points in (comparators or {}).items():
        series = ComparatorSeries(name=name)
        series.points = [ComparatorPoint(period=p, label=label, value=v) for p, label, v in series_points]
        item.comparators.append(series)
    db.session.add(item)
    if commit:
        db.session.commit()
    return item


def make_round(name: str = "Winter 2026 self-assessment", scores: dict[str, int | None] | None = None) -> Round:
    """A round with an assessment for each statement given in ``scores``."""
    round_ = Round(name=name)
    db.session.add(round_)
    for key, score in (scores or {}).items():
        db.session.add(Assessment(round=round_, statement=statement(key), score=score))
    db.session.commit()
    return round_


def score_all(round_: Round, score: int) -> None:
    for s in db.session.scalars(select(QualityStatement)):
        db.session.add(Assessment(round=round_, statement=s, score=score))
    db.session.commit()


def make_action(statement_key: str, description: str = "Deliver transitions training", **fields) -> Action:
    fields.setdefault("owner", "Head of Transitions")
    fields.setdefault("due_date", today() + timedelta(days=60))
    action = Action(statement=statement(statement_key), description=description, **fields)
    db.session.add(action)
    db.session.commit()
    return action


def round_with_everything_in_the_way() -> dict:
    """A round with one of each thing sign-off readiness lists: unscored statements, a submission waiting,
    text that looks like personal data, a stale item cited, an action owned by "TBC" (and the gaps that follow)."""
    stale = make_item(
        "Hospital discharge audit 2024",
        review_by=today() - timedelta(days=10),
        mappings=[("safe-pathways", "processes", "strength")],
    )
    make_item("Ward feedback", summary="Mrs Patel said the ward called her daily.")
    waiting = make_item("Carers' assessments at discharge", status=Status.SUBMITTED)
    round_ = make_round("Spring 2027 self-assessment")
    db.session.add(
        Assessment(round=round_, statement=statement("safe-pathways"), score=3, rationale=f"See [{stale.reference}].")
    )
    db.session.commit()
    unowned = make_action("safeguarding", "Audit section 42 enquiries", owner="TBC")
    make_action("safeguarding", "Train the front door team", owner="Head of Safeguarding")
    unowned.round_id = round_.id
    db.session.commit()
    return {"round": round_, "stale": stale, "waiting": waiting, "unowned": unowned}
