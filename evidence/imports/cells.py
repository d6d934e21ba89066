"""Reading one spreadsheet cell as a value of a known type.

Every parser takes the raw cell value (text from a CSV file; text, numbers,
dates or ``PercentValue`` from a workbook) and returns a typed value or raises
``CellError`` with the reason a person reads in the preview.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from evidence import bounds, periods
from evidence.bounds import NumberRange

PERCENT_RULE = (
    "Write a percentage as 61%, 61 or 0.61: all three mean 61 per cent. A number of 1 or less written with a "
    "decimal point (0.61), or a cell formatted as a percentage in Excel, is read as a fraction; any other number "
    "is read as per cent, from 0 to 100. So 1 means 1%, 1.0 means 100%, and half a per cent is written 0.5%."
)

PERIOD_FORMS = periods.FORMS

DATE_FORMS = "30/09/2026, 2026-09-30 or 30 Sep 2026"


class CellError(ValueError):
    """A cell that cannot be read; ``reason`` is shown next to the row and column."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class CellOutOfRange(CellError):
    """A value that was read but is outside what the portal stores (``evidence.bounds``)."""


class PercentValue(float):
    """A number from a workbook cell formatted as a percentage: 0.61 displayed as 61%."""


class NoSavedValue:
    """A workbook cell holding a formula whose result was never saved (a file written by a program, not by Excel
    or LibreOffice, which save each formula's result): its value is not known."""

    def __init__(self, formula: str):
        self.formula = formula

    def __str__(self) -> str:
        return self.formula

    def __repr__(self) -> str:
        return f"NoSavedValue({self.formula!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoSavedValue) and other.formula == self.formula

    __hash__ = None


NO_SAVED_VALUE = (
    "A formula with no saved value, so the portal cannot tell what it shows: open the file in Excel (or "
    "LibreOffice), let it calculate, save it and upload it again — or paste the cells as values"
)


_TOTAL_WORDS = {"total", "totals", "subtotal", "sub total", "grand total", "overall total"}
_TOTAL_FORMULA = re.compile(r"^=\s*(?:_xlfn\.)?(SUM|SUBTOTAL|AGGREGATE|SUMIFS?)\s*\(", re.IGNORECASE)


def _total_word(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 40:
        return False
    return " ".join(re.sub(r"[^a-z]", " ", value.lower()).split()) in _TOTAL_WORDS


def totals_row(values: list[Any], formulas: list[str] = ()) -> str | None:
    """What marks a row as a totals or subtotal row ("Total", =SUM(C5:C17)), or None for a row of data.

    A cell reading just "Total" (or "Subtotal", "Grand total:") does; a name that starts with the word, such as
    "Total people supported", does not. So does a SUM or SUBTOTAL formula."""
    marks = [f"“{as_text(v)}”" for v in values if _total_word(v)]
    marks += [formula for formula in formulas if _TOTAL_FORMULA.match(formula)]
    return ", ".join(marks[:3]) or None


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_text(value: Any) -> str:
    """A cell as the text a person would see in it."""
    if value is None:
        return ""
    if isinstance(value, NoSavedValue):
        return value.formula
    if isinstance(value, PercentValue):
        return f"{_number_text(float(value) * 100)}%"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return _number_text(value)
    return " ".join(str(value).split()) if isinstance(value, str) else str(value)


def _number_text(number: float) -> str:
    if float(number).is_integer():
        return str(int(number))
    return f"{number:.6f}".rstrip("0").rstrip(".")


# --- Text and choices ---------------------------------------------------------------------------------------------


def text(value: Any, max_length: int | None = None, multiline: bool = False) -> str:
    if isinstance(value, str):
        result = value.strip() if multiline else " ".join(value.split())
        if multiline:
            result = "\n".join(line.rstrip() for line in result.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    else:
        result = as_text(value)
    if max_length is not None and len(result) > max_length:
        raise CellError(f"Too long: at most {max_length} characters (this has {len(result)})")
    return result


def normalise(value: str) -> str:
    return " ".join(str(value).replace("’", "'").lower().split())


def choice(value: Any, options: dict[str, str], what: str) -> str:
    """Match text against ``options`` (normalised spelling -> stored value)."""
    wanted = normalise(as_text(value))
    if wanted in options:
        return options[wanted]
    allowed = ", ".join(sorted({v for v in options.values()}))
    raise CellError(f"Unknown {what}: use one of {allowed}")


def choices_of(enum_cls, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Accepted spellings for a vocabulary: each value and each label, any case."""
    options = {}
    for member in enum_cls:
        options[normalise(member.value)] = member.value
        options[normalise(member.label)] = member.value
    for spelling, value in (extra or {}).items():
        options[normalise(spelling)] = value
    return options


# --- Numbers ---------------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _parse_number_text(raw: str) -> tuple[float, bool]:
    """A number written as text; returns (value, written with a decimal point)."""
    cleaned = raw.strip().replace(",", "").replace(" ", "").replace("\u00a0", "")
    if not _NUMBER.match(cleaned):
        raise CellError("Not a number")
    return float(cleaned), "." in cleaned


def _within(value: float, bound: NumberRange) -> float:
    """A number read from a cell, refused unless ``bound`` holds it (Infinity and NaN never do)."""
    if not bound.holds(value):
        raise CellOutOfRange(f"Out of range: must be {bound.text}")
    return bound.check(value)


def number(value: Any, bound: NumberRange = bounds.MEASURE) -> float:
    """A plain number. "1,234.5" is understood; "61%" and a percent-formatted cell give 61."""
    if isinstance(value, bool):
        raise CellError("Not a number")
    if isinstance(value, PercentValue):
        return _within(round(float(value) * 100, 6), bound)
    if isinstance(value, int | float):
        return _within(value, bound)  # a whole number too long for a float is simply out of range
    if isinstance(value, str):
        raw = value.strip()
        if raw.endswith("%"):
            return _within(_parse_number_text(raw[:-1])[0], bound)
        return _within(_parse_number_text(raw)[0], bound)
    raise CellError("Not a number")


_DIGITS = re.compile(r"^[+-]?\d+$")


def whole_number(value: Any, bound: NumberRange = bounds.COUNT) -> int:
    """A whole number within ``bound`` (a count, by default: 0 to ``bounds.COUNT.maximum``)."""
    if isinstance(value, bool | PercentValue):
        raise CellError("Not a whole number")
    if isinstance(value, int):
        result = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise CellError("Not a whole number")
        result = int(value)
    elif isinstance(value, str):
        cleaned = value.strip().replace(",", "").replace(" ", "").replace("\u00a0", "")
        if _DIGITS.match(cleaned):
            # Read exactly, not through a float. Past 20 characters only the sign matters (any such figure is
            # beyond every bound), and int() of thousands of digits refuses to run.
            result = int(cleaned[:21])
        else:
            try:
                parsed, _ = _parse_number_text(value)
            except CellError:
                raise CellError("Not a whole number") from None
            if not parsed.is_integer():
                raise CellError("Not a whole number")
            result = int(parsed)
    else:
        raise CellError("Not a whole number")
    if result < bound.minimum:
        raise CellOutOfRange(f"Must be {bound.minimum:,} or more")
    if result > bound.maximum:
        raise CellOutOfRange(f"Too large: at most {bound.maximum:,}")
    return result


def percent(value: Any) -> float:
    """A percentage from 0 to 100, by the rule in ``PERCENT_RULE``."""
    if isinstance(value, bool):
        raise CellError("Not a percentage")
    if isinstance(value, PercentValue):
        result = float(value) * 100
    elif isinstance(value, int):
        result = value  # kept whole: one too long for a float is refused below, not overflowed
    elif isinstance(value, float):
        # A workbook keeps 61 as a whole number and 0.61 as a decimal.
        result = value * 100 if value <= 1 and not value.is_integer() else value
    elif isinstance(value, str):
        raw = value.strip()
        try:
            if raw.endswith("%"):
                result, _ = _parse_number_text(raw[:-1])
            else:
                parsed, has_point = _parse_number_text(raw)
                result = parsed * 100 if has_point and parsed <= 1 else parsed
        except CellError:
            raise CellError("Not a percentage") from None
    else:
        raise CellError("Not a percentage")
    result = round(result, 6)
    if result > bounds.PERCENT.maximum:
        raise CellError("Percentage over 100")
    if result < bounds.PERCENT.minimum:
        raise CellError("Percentage below 0")
    if not bounds.PERCENT.holds(result):
        raise CellError("Not a percentage")
    return bounds.PERCENT.check(result)


# --- Dates and periods -------------------------------------------------------------------------------------------


def _read(parse, value: Any, unreadable: str):
    """``parse(value)``, refused as a cell is: out of the years ``bounds`` allows, or ``unreadable``."""
    try:
        return parse(value)
    except periods.PeriodOutOfRange as exc:
        raise CellOutOfRange(str(exc)) from None
    except periods.PeriodError:
        raise CellError(unreadable) from None


def a_date(value: Any) -> date:
    """A date in the years ``bounds`` allows: a date cell, an Excel date serial or text (``DATE_FORMS``)."""
    return _read(periods.parse_day, value, f"Date does not parse: write it as {DATE_FORMS}")


Period = periods.Period
month_period = periods.month


def period(value: Any) -> Period:
    """A period in the one vocabulary (``evidence.periods``): a financial quarter or year, a month, a calendar
    quarter or year, a date, a date cell or an Excel date serial, in the years ``bounds`` allows."""
    return _read(periods.parse, value, f"Period does not parse: write {PERIOD_FORMS}")


def date_or_period(value: Any) -> Period:
    """A cell meant as a date, where a month, quarter or year (any ``period``) is understood too; refused
    with the words of a date, which is what the column asks for."""
    return _read(periods.parse, value, f"Date does not parse: write it as {DATE_FORMS}, or a month such as 2026-03")


def period_text(start: date | None, end: date | None) -> str:
    """A stretch of dates as councils write it (``periods.describe``)."""
    return periods.describe(start, end)
