"""Metric points: periods as councils write them ("Q1 2024/25", "Apr 2024"), and adding points over time;
and the comparator series a metric is read against (England average, region, nearest neighbours)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError

from evidence import audit, bounds, periods
from evidence.assessment.round_lock import lock_open_rounds
from evidence.db import db
from evidence.models import ComparatorPoint, ComparatorSeries, EvidenceItem, MetricPoint, User
from evidence.vocab import Kind

COMPARATOR_NAME_LIMIT = 100  # ComparatorSeries.name


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


def _insert(row: Any, theirs: Callable[[], Any], *, field: str = "period") -> Any | None:
    """Add ``row`` in a savepoint, so that a clash undoes the row and not the lock on the open rounds.

    None when it was added; after a clash (someone else added the same a moment ago), what ``theirs()`` finds."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        found = theirs()
        if found is None:
            db.session.rollback()
            raise MetricError("the metric changed while this was being saved; try again", field=field) from None
        return found
    return None


def _add_point(point, theirs, item: EvidenceItem, user: User | None, action: str, summary: str, after: dict):
    """Add a metric's or a comparator's point and record it: None when added, else the point that stands instead."""
    existing = _insert(point, theirs)
    if existing is None:
        audit.record(action, item, user=user, summary=summary, after=after)
        db.session.commit()
    return existing


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
    value = check_value(item, value)
    lock_open_rounds()  # an accepted metric's points are in every open round's snapshot
    existing = point_for(item, period.start)
    if existing is None:
        point = MetricPoint(item_id=item.id, period=period.start, label=period.label, value=value)
        existing = _add_point(
            point,
            lambda: point_for(item, period.start),
            item,
            user,
            "add_point",
            f"Added {period.label}: {format_value(value, item.unit)}",
            {"period": period.label, "value": value},
        )
        if existing is None:
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


# --- Comparator series ------------------------------------------------------------------------------------------


def comparator_name(text: str | None) -> str:
    """A comparator's name as it is kept: on one line, with its spacing tidied."""
    name = " ".join((text or "").replace("\x00", "").split())
    if not name:
        raise MetricError("name the comparator, e.g. England average", field="name")
    if len(name) > COMPARATOR_NAME_LIMIT:
        raise MetricError(f"a comparator's name is at most {COMPARATOR_NAME_LIMIT} characters", field="name")
    return name


def same_comparator(a: str, b: str) -> bool:
    """Two names of one series: "England average" and "england  Average" are the same comparator."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def find_series(item: EvidenceItem, name: str) -> ComparatorSeries | None:
    return next((s for s in item.comparators if same_comparator(s.name, name)), None)


def check_value(item: EvidenceItem, value: float | None) -> float:
    """A value of the metric or of one of its comparators, as stored: a number in ``bounds``, in the range
    its unit allows (``bounds.point_range``: a percentage 0–100, a count not below 0)."""
    if value is None:
        raise MetricError("enter a value", field="value")
    try:
        value = bounds.MEASURE.check(value)
    except bounds.OutOfRange as exc:
        raise MetricError(str(exc), field="value") from None
    if problem := bounds.point_problem(value, item.unit):
        raise MetricError(problem, field="value")
    return value


def set_comparator_point(
    item: EvidenceItem, name: str, period: date, label: str, value: float, existing: ComparatorPoint | None = None
) -> ComparatorPoint:
    """Give the comparator ``name`` of ``item`` its value for the period starting ``period`` (``existing``, the
    point it already holds then, changed; else a new point, in a new series if the metric has none of that name).
    Not written yet and not checked, as ``set_point``: for writers of many points in one transaction."""
    if existing is not None:
        existing.label, existing.value = label, value
        return existing
    series = find_series(item, name)
    if series is None:
        series = ComparatorSeries(name=name)
        item.comparators.append(series)
    point = ComparatorPoint(period=period, label=label, value=value)
    series.points.append(point)
    return point


def add_comparator_point(
    item: EvidenceItem,
    name: str | None,
    period_text: str,
    value: float | None,
    user: User | None = None,
    *,
    replace: bool = False,
) -> ComparatorPoint:
    """Add one (period, value) to a metric's comparator ``name``, starting the series if it is new.

    The same value again changes nothing; a different value for a period the comparator already has is
    refused unless ``replace`` is set, when it is updated and the change audited."""
    if item.kind != Kind.METRIC:
        raise MetricError(f"{item.reference} is not a metric, so it has no comparators", field="name")
    name = comparator_name(name)
    period = parse_period(period_text)
    value = check_value(item, value)
    lock_open_rounds()  # an accepted metric's comparators are in every open round's snapshot
    series = find_series(item, name)
    if series is None:
        ours = ComparatorSeries(item_id=item.id, name=name)

        def started() -> ComparatorSeries | None:
            db.session.expire(item, ["comparators"])
            return find_series(item, name)

        series = _insert(ours, started, field="name") or ours  # someone else started it a moment ago: add to theirs
    existing = series.point_for(period.start)
    if existing is None:
        point = ComparatorPoint(series_id=series.id, period=period.start, label=period.label, value=value)

        def added() -> ComparatorPoint | None:
            db.session.expire(series, ["points"])
            return series.point_for(period.start)

        existing = _add_point(
            point,
            added,
            item,
            user,
            "add_comparator",
            f"Added {series.name} for {period.label}: {format_value(value, item.unit)}",
            {"comparator": series.name, "period": period.label, "value": value},
        )
        if existing is None:
            return point
    if existing.value == value:
        db.session.rollback()  # nothing to change: ends the transaction, and the lock with it
        return existing
    if not replace:
        message = (
            f"{series.name} already has a value for {existing.label} ({existing.value:g}); tick “Replace” to change it"
        )
        db.session.rollback()
        raise MetricError(message)
    before = {"comparator": series.name, "period": existing.label, "value": existing.value}
    existing.value, existing.label = value, period.label
    audit.record(
        "update_comparator",
        item,
        user=user,
        summary=f"Changed {series.name} for {period.label}",
        before=before,
        after={"comparator": series.name, "period": period.label, "value": value},
    )
    db.session.commit()
    return existing


# --- Reading a metric beside its comparators ------------------------------------------------------------------------


@dataclass
class PeriodRow:
    """One period of a metric's table: its value and each comparator's (None where a series has none)."""

    period: date | None
    label: str
    value: float | None = None
    comparators: list[float | None] = field(default_factory=list)


def _parts(point: Any) -> tuple[date | None, str, Any]:
    if isinstance(point, tuple | list):  # (label, value), as a chart may be given
        return None, str(point[0]), point[1]
    return point.period, str(point.label), point.value


def side_by_side(
    points: Iterable[Any], comparators: Sequence[Any] = (), *, drawable: bool = True
) -> tuple[list[str], list[PeriodRow]]:
    """The comparators' names, and a row per period that the metric or any comparator has a value for, in
    order of period: what a table, a chart and the workbook show. Values that cannot be drawn (stored out of
    ``bounds`` before values were checked) count as missing, unless ``drawable`` is off (a table says what
    is held). A series' points are objects with ``period``, ``label`` and ``value``; a comparator has
    ``name`` and ``points``."""
    names = [c.name for c in comparators]
    rows: dict[Any, PeriodRow] = {}

    def row(point: Any) -> tuple[PeriodRow, Any]:
        period, label, value = _parts(point)
        key = period if period is not None else label
        if key not in rows:
            rows[key] = PeriodRow(period, label, None, [None] * len(names))
        return rows[key], bounds.usable(value) if drawable else value

    for point in points:
        found, value = row(point)
        found.value = value
    for index, comparator in enumerate(comparators):
        for point in comparator.points:
            found, value = row(point)
            found.comparators[index] = value
    order = list(rows)
    ordered = sorted(
        rows.values(), key=lambda r: (0, r.period, 0) if r.period is not None else (1, date.min, order.index(r.label))
    )
    return names, [r for r in ordered if r.value is not None or any(v is not None for v in r.comparators)]


@dataclass(frozen=True)
class ComparatorReading:
    name: str
    value: float
    label: str  # the period of the value
    same_period: bool  # the period of the metric's latest value


def comparator_readings(item: Any) -> list[ComparatorReading]:
    """Each comparator of a metric (stored or a round's view) against its latest value: the comparator's
    value for the same period, or, when it has none for it, its own latest value, with that period."""
    latest = item.latest_point
    readings = []
    for series in item.comparators:
        usable = [p for p in series.points if bounds.usable(p.value) is not None]
        if not usable:
            continue
        same = next((p for p in usable if latest is not None and p.period == latest.period), None)
        point = same or max(usable, key=lambda p: p.period)
        readings.append(ComparatorReading(series.name, point.value, point.label, same is not None))
    return readings
