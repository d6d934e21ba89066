"""Metric points: periods as councils write them ("Q1 2024/25", "Apr 2024"), and adding points over time."""

from __future__ import annotations

import math
from datetime import date

from sqlalchemy.exc import IntegrityError

from evidence import audit, bounds, periods
from evidence.assessment.round_lock import lock_open_rounds
from evidence.db import db
from evidence.models import EvidenceItem, MetricPoint, User
from evidence.vocab import Kind


class MetricError(ValueError):
    """A point that cannot be taken; ``field`` says which input was wrong ("period" or "value")."""

    def __init__(self, message: str, field: str = "period"):
        super().__init__(message)
        self.field = field


def parse_period(text: str | None) -> periods.Period:
    """A metric point's period in the one vocabulary (``evidence.periods``): a financial quarter or year, a month,
    a calendar quarter or year; a single day counts as its month."""
    try:
        return periods.point_period(text if text is not None else "")
    except periods.PeriodError as exc:
        raise MetricError(str(exc)) from None


def format_value(value: float | int | None, unit: str | None = "", places: int = 2) -> str:
    """A metric's value as people read it, with its unit: 61%, 1,250, 12.5 days (``places`` decimals at most).

    The one way every page, chart, export and import preview writes a figure.
    """
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):  # stored before values were checked
        return "not a number"
    figure = f"{int(value):,}" if float(value).is_integer() else f"{value:,.{places}f}".rstrip("0").rstrip(".")
    unit = (unit or "").strip()
    if not unit:
        return figure
    return f"{figure}{unit}" if unit == "%" else f"{figure} {unit}"


def point_for(item: EvidenceItem, period: date) -> MetricPoint | None:
    return db.session.scalar(db.select(MetricPoint).where(MetricPoint.item_id == item.id, MetricPoint.period == period))


def set_point(
    item: EvidenceItem, period: date, label: str, value: float, existing: MetricPoint | None = None
) -> MetricPoint:
    """Give ``item`` its value for the period starting ``period``: ``existing`` (the point it already holds for
    that period) changed, or a new point added to its series. Not written yet, and the value not checked: for
    writers of many points in one transaction (an edited series, an import), which check every value first."""
    if existing is not None:
        existing.label, existing.value = label, value
        return existing
    point = MetricPoint(period=period, label=label, value=value)
    item.points.append(point)
    return point


def add_point(
    item: EvidenceItem,
    period_text: str,
    value: float,
    user: User | None = None,
    *,
    replace: bool = False,
) -> MetricPoint:
    """Add one (period, value) to a metric. A period that already has a value is refused
    unless ``replace`` is set, in which case the value is updated and the change audited."""
    if item.kind != Kind.METRIC:
        raise MetricError(f"{item.reference} is not a metric, so it has no points")
    period = parse_period(period_text)
    if value is None:
        raise MetricError("enter a value", field="value")
    try:
        value = bounds.MEASURE.check(value)
    except bounds.OutOfRange as exc:
        raise MetricError(str(exc), field="value") from None
    if problem := bounds.point_problem(value, item.unit):
        raise MetricError(problem, field="value")
    lock_open_rounds()  # an accepted metric's points are in every open round's snapshot
    existing = point_for(item, period.start)
    if existing is None:
        point = MetricPoint(item_id=item.id, period=period.start, label=period.label, value=value)
        try:
            with db.session.begin_nested():  # a savepoint: a clash undoes the point, not the lock
                db.session.add(point)
        except IntegrityError:  # someone else added this period a moment ago: theirs stands
            existing = point_for(item, period.start)
            if existing is None:
                db.session.rollback()
                raise MetricError("the metric changed while this was being saved; try again") from None
        else:
            audit.record(
                "add_point",
                item,
                user=user,
                summary=f"Added {period.label}: {value:g}",
                after={"period": period.label, "value": value},
            )
            db.session.commit()
            return point
    if not replace:
        message = f"{existing.label} already has a value ({existing.value:g}); tick “Replace” to change it"
        db.session.rollback()  # ends the transaction, and the lock with it
        raise MetricError(message)
    before = {"period": existing.label, "value": existing.value}
    existing.value = value
    existing.label = period.label
    audit.record(
        "update_point",
        item,
        user=user,
        summary=f"Changed the value for {period.label}",
        before=before,
        after={"period": period.label, "value": value},
    )
    db.session.commit()
    return existing
