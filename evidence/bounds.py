"""The range of every number and date the portal stores: one set of bounds for forms, imports and scripts.

A column holds less than Python does: an INTEGER column on PostgreSQL stops at
2,147,483,647 (SQLite's at 2**63 - 1), a float column takes Infinity and NaN,
which JSON cannot carry, and ``date`` stops at the year 9999, so a review date
a year after 9999-12-31 cannot even be computed. Each value is checked against
a range narrower than its column and plausible for a council's evidence, by the
domain functions themselves and, with the same rule and the same words, by every
form and import before them. Values stored before these checks existed are read
with ``usable`` and ``json_safe``, so that a page, an export or a sign-off copes.
"""

from __future__ import annotations

import calendar
import json
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

# What an INTEGER column holds on PostgreSQL: the largest id, and the most any whole number may be.
MAX_INTEGER = 2**31 - 1
MAX_ID = MAX_INTEGER

# Dates of evidence, reviews and actions; periods of metric points.
FIRST_DATE = date(1990, 1, 1)
LAST_DATE = date(2100, 12, 31)
YEARS = f"the years {FIRST_DATE.year}–{LAST_DATE.year}"


class OutOfRange(ValueError):
    """A value the portal does not store. The message says why, without naming the field: callers add that."""


def _shown(value: Any) -> str:
    """A number as the messages show it: 3,000,000,000 or 0.5; ``inf`` and ``nan`` as Python writes them."""
    if isinstance(value, int):
        return f"{value:,}" if abs(value) < 10**16 else "a number of more than 16 digits"
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer() and abs(value) < 1e16:
            return f"{int(value):,}"
        return f"{value:,.15g}" if abs(value) < 1e16 else f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class NumberRange:
    """The numbers a kind of field may hold: finite, from ``minimum`` to ``maximum``, and whole if ``whole``."""

    minimum: float
    maximum: float
    whole: bool = False

    @property
    def text(self) -> str:
        return f"between {_shown(self.minimum)} and {_shown(self.maximum)}"

    def check(self, value: Any) -> int | float:
        """The value as it is stored (a whole number as ``int``, -0 as 0), or ``OutOfRange`` saying why not."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OutOfRange(f"“{value}” is not a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise OutOfRange(f"{_shown(value)} is not a number")
        if self.whole and isinstance(value, float) and not value.is_integer():
            raise OutOfRange(f"{_shown(value)} is not a whole number")
        if not self.minimum <= value <= self.maximum:
            raise OutOfRange(f"{_shown(value)} is not {self.text}")
        if self.whole:
            return int(value)
        return 0.0 if value == 0 else float(value)

    def holds(self, value: Any) -> bool:
        try:
            self.check(value)
        except OutOfRange:
            return False
        return True


# Respondents to a survey, cases audited: more than any council counts, far inside an INTEGER column.
COUNT = NumberRange(0, 10_000_000, whole=True)
PERCENT = NumberRange(0, 100)
# A metric's values, target and comparators: a council's budget in pounds fits; Infinity does not.
MEASURE = NumberRange(-1e12, 1e12)

# The range of each number an evidence item holds (columns of ``EvidenceItem``).
ITEM_NUMBERS = {
    "respondents": COUNT,
    "cases_reviewed": COUNT,
    "result_percent": PERCENT,
    "target": MEASURE,
}


# --- A metric's values, by its unit ---------------------------------------------------------------------------

NOT_NEGATIVE = NumberRange(0, MEASURE.maximum)

UNIT_RULE = (
    "A metric's values are checked against its unit. A percentage (unit %, per cent, “% of people”) is from 0 to "
    "100; a count (people, cases, referrals, assessments…), a rate “per 1,000” or a time in days, weeks or hours "
    "is 0 or more. A unit that says otherwise is believed: a percentage of something that can be exceeded "
    "(“% of target”, “% of budget”, “% of plan”) may pass 100, and a change (“% change”, “change in people”, "
    "“net admissions”, “difference”) may also be negative. The same rule holds for the metric's target."
)

_PERCENT_WORDS = re.compile(r"%|\bper ?cent|\bpercentage\b|\bpct\b")
_OVER_100 = re.compile(r"\bof (the )?(target|plan|budget|baseline|forecast|expected|last year|previous|capacity)\b")
_ANY_SIGN = re.compile(r"\b(changes?|difference|variance|net|increase|decrease|growth|movement|points?|pp)\b|[+±]")
_COUNT_WORDS = re.compile(
    r"\b(people|persons?|count|number|no|cases?|referrals?|assessments?|reviews?|admissions?|contacts?|visits?|"
    r"carers?|clients?|residents?|staff|users?|individuals?|placements?|packages?|households?|beds?|enquiries|"
    r"concerns?|complaints?|adults?|services?|providers?|hours?|days?|weeks?|months?|years?|per)\b"
)


def _unit_text(unit: str | None) -> str:
    return " ".join((unit or "").lower().split())


def point_range(unit: str | None) -> NumberRange:
    """The values a metric with this unit may hold (``UNIT_RULE``): 0–100 for a percentage, 0 or more for a
    count, a rate or a time, any measure for anything else or a unit that says it is a change."""
    text = _unit_text(unit)
    if not text or _ANY_SIGN.search(text):
        return MEASURE
    if _PERCENT_WORDS.search(text):
        return NOT_NEGATIVE if _OVER_100.search(text) else PERCENT
    return NOT_NEGATIVE if _COUNT_WORDS.search(text) else MEASURE


def point_problem(value: float, unit: str | None) -> str | None:
    """Why a metric with this unit cannot hold ``value`` (a value or a target), or None when it can."""
    allowed = point_range(unit)
    if allowed.holds(value):
        return None
    if allowed is PERCENT:
        return f"{_shown(value)} is not a percentage between 0 and 100"
    if allowed is NOT_NEGATIVE:
        return f"{_shown(value)} is below 0, which a metric in “{(unit or '').strip()}” cannot be"
    return f"{_shown(value)} is not {allowed.text}"


# --- Dates ------------------------------------------------------------------------------------------------------


def check_year(year: int) -> int:
    if not FIRST_DATE.year <= year <= LAST_DATE.year:
        raise OutOfRange(f"{year:04d} is outside {YEARS}")
    return year


def check_date(value: date) -> date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise OutOfRange(f"{value.isoformat()} is outside {YEARS}")
    return value


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter), never past ``LAST_DATE``.

    A review date is worked out this way from a period's end; capping it means a period that ends
    late in the range still has a review date, and a stored date beyond the range cannot overflow.
    """
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    if year > LAST_DATE.year:
        return LAST_DATE
    if year < FIRST_DATE.year:
        return FIRST_DATE
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


# --- Reading what is already stored -------------------------------------------------------------------------------


def usable(value: Any, bound: NumberRange = MEASURE) -> float | int | None:
    """A stored number as pages may draw or sum it: None when it is not finite or outside ``bound``."""
    return value if value is not None and bound.holds(value) else None


def finite(value: Any) -> Any:
    """A stored value, or None when it is a float JSON cannot hold (Infinity, NaN): such a value counts as missing."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def json_safe(value: Any) -> Any:
    """``value`` with every float JSON cannot hold (Infinity, NaN) replaced by None, for JSON columns."""
    if isinstance(value, float):
        return finite(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def json_dumps(value: Any) -> str:
    """How every JSON column is written: PostgreSQL refuses the NaN and Infinity tokens, so they become null."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:  # rare (a value stored before the bounds): walk it only then
        return json.dumps(json_safe(value), allow_nan=False)
