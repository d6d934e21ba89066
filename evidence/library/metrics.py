"""Metric points: periods as people write them ("2026-09", "2026 Q3"), and adding points over time."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError

from evidence import audit, bounds
from evidence.assessment.round_lock import lock_open_rounds
from evidence.db import db
from evidence.models import EvidenceItem, MetricPoint, User
from evidence.vocab import Kind

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
MONTH_NAMES = [date(2000, m, 1).strftime("%B").lower() for m in range(1, 13)]
PERIOD_HINT = "a month like 2026-09 or Sep 2026, or a quarter like 2026 Q3"

_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})\s*[- ]?\s*Q([1-4])$|^Q([1-4])\s*[- ]?\s*(\d{4})$", re.IGNORECASE)
_NAMED_MONTH = re.compile(r"^([A-Za-z]+)\.?\s+(\d{4})$")


class MetricError(ValueError):
    """A point that cannot be taken; ``field`` says which input was wrong ("period" or "value")."""

    def __init__(self, message: str, field: str = "period"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Period:
    start: date  # first day of the month or quarter
    label: str  # as shown: "Sep 2026" or "2026 Q3"


def parse_period(text: str | None) -> Period:
    """A month ("2026-09", "Sep 2026", "September 2026") or a quarter ("2026 Q3", "Q3 2026"),
    in the years ``bounds`` allows."""
    raw = (text or "").strip()
    if not raw:
        raise MetricError(f"enter a period: {PERIOD_HINT}")
    if match := _ISO_MONTH.match(raw):
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12:
            return _month(year, month)
    elif match := _QUARTER.match(raw):
        year = int(match.group(1) or match.group(4))
        quarter = int(match.group(2) or match.group(3))
        return Period(date(_year(year), 3 * quarter - 2, 1), f"{year} Q{quarter}")
    elif match := _NAMED_MONTH.match(raw):
        name, year = match.group(1).lower(), int(match.group(2))
        if name in MONTH_NAMES:
            return _month(year, MONTH_NAMES.index(name) + 1)
        if name[:3] in MONTHS and len(name) in (3, 4):  # "Sep", "Sept"
            return _month(year, MONTHS.index(name[:3]) + 1)
    raise MetricError(f"“{raw}” is not a period the portal understands: use {PERIOD_HINT}")


def _year(year: int) -> int:
    try:
        return bounds.check_year(year)
    except bounds.OutOfRange as exc:
        raise MetricError(str(exc)) from None


def _month(year: int, month: int) -> Period:
    start = date(_year(year), month, 1)
    return Period(start, start.strftime("%b %Y"))


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
    if not bounds.point_range(item.unit).holds(value):
        raise MetricError(f"{value:g} is not a percentage between 0 and 100", field="value")
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
                summary=f"Added {period.label}: {format_value(value, item.unit)}",
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
