"""Metric points sent by a system (the API) rather than in a file: the metric import's rules, unchanged.

The points are handed to the metric importer as the rows of a table, so they are checked and written
exactly as an imported file is: every point is validated first (the metric, the period, the value and
its range, a period given twice), nothing is written unless all of them can be, all of them are written
in one transaction, and sending the same points again changes nothing (a different value for a period
already held updates it). Points name existing metrics by reference (E-12); new metrics are made by
submitting them, or by the import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evidence import wording
from evidence.imports import IMPORTERS, ImportNotReady, ImportResult, Plan, write_plan
from evidence.imports.reading import Table
from evidence.models import User

COLUMNS = ("Metric", "Period", "Value")
# What each column is called where the points were sent (the API's field names).
FIELDS = {"Metric": "metric", "Period": "period", "Value": "value"}
MAX_POINTS = 5000


@dataclass(frozen=True)
class Point:
    metric: str  # a reference, E-12
    period: str  # as the import reads it: 2026-09, Sep 2026, 2026 Q3, 2026/27…
    value: float


class PointsRefused(ValueError):
    """Nothing was written; ``problems`` maps each point's position (from 0) to {field: [messages]}."""

    def __init__(self, message: str, problems: dict[int, dict[str, list[str]]]):
        super().__init__(message)
        self.problems = problems


def plan(points: Sequence[Point], source: str) -> Plan:
    """Validate the points and plan what they change, writing nothing."""
    table = Table(
        format="api",
        header=list(COLUMNS),
        header_row=0,  # so that point n (from 1) is row n
        rows=[(n, [p.metric, p.period, p.value]) for n, p in enumerate(points, start=1)],
    )
    return IMPORTERS["metric"].plan(table, source)


def send(points: Sequence[Point], user: User | None, source: str) -> ImportResult:
    """Write every point or none; PointsRefused says, point by point, what was wrong."""
    if not points:
        raise PointsRefused("Send at least one point.", {})
    if len(points) > MAX_POINTS:
        raise PointsRefused(f"Send at most {MAX_POINTS:,} points at once.", {})
    planned = plan(points, source)
    problems: dict[int, dict[str, list[str]]] = {}
    for error in planned.errors:
        problems.setdefault(error.row - 1, {}).setdefault(FIELDS.get(error.column, "metric"), []).append(error.reason)
    try:
        if problems:
            raise ImportNotReady("", planned)
        return write_plan(planned, user)
    except ImportNotReady:
        count = len(problems)
        raise PointsRefused(
            f"{wording.count(count, 'point')} cannot be taken, so none was written."
            if count
            else "The points cannot be taken, so none was written.",
            problems,
        ) from None
