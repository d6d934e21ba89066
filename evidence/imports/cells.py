"""Reading one spreadsheet cell as a value of a known type.

Every parser takes the raw cell value (text from a CSV file; text, numbers,
dates or ``PercentValue`` from a workbook) and returns a typed value or raises
``CellError`` with the reason a person reads in the preview.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from evidence import bounds
from evidence.bounds import NumberRange

PERCENT_RULE = (
    "Write a percentage as 61%, 61 or 0.61: all three mean 61 per cent. A number of 1 or less written with a "
    "decimal point (0.61), or a cell formatted as a percentage in Excel, is read as a fraction; any other number "
    "is read as per cent, from 0 to 100. So 1 means 1%, 1.0 means 100%, and half a per cent is written 0.5%."
)

PERIOD_FORMS = (
    "a month (2026-09, Sep 2026 or September 2026), a calendar quarter (2026 Q3 or Q3 2026; Q1 is January to "
    "March), a financial year (2025/26, April to March), a year (2026) or a date (30/09/2026 or 2026-09-30)"
)

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


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_text(value: Any) -> str:
    """A cell as the text a person would see in it."""
    if value is None:
        return ""
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

_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%d %b %y")


def _date_from_text(raw: str) -> date | None:
    cleaned = " ".join(raw.replace(",", " ").split())
    # "2026-09-30 00:00:00" as some tools write a date
    cleaned = re.sub(r"[ T]00:00(:00)?$", "", cleaned)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def _in_range(day: date) -> date:
    try:
        return bounds.check_date(day)
    except bounds.OutOfRange as exc:
        raise CellOutOfRange(str(exc)) from None


def a_date(value: Any) -> date:
    """A date in the years ``bounds`` allows."""
    if isinstance(value, datetime):
        return _in_range(value.date())
    if isinstance(value, date):
        return _in_range(value)
    if isinstance(value, str):
        parsed = _date_from_text(value)
        if parsed is not None:
            return _in_range(parsed)
    raise CellError(f"Date does not parse: write it as {DATE_FORMS}")


@dataclass(frozen=True)
class Period:
    """The stretch of time a value describes, as people name it."""

    start: date
    end: date
    label: str


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _year(year: int) -> int:
    try:
        return bounds.check_year(year)
    except bounds.OutOfRange as exc:
        raise CellOutOfRange(str(exc)) from None


def month_period(year: int, month: int) -> Period:
    return Period(date(_year(year), month, 1), _month_end(year, month), f"{calendar.month_abbr[month]} {year}")


def quarter_period(year: int, quarter: int) -> Period:
    first = 3 * (quarter - 1) + 1
    return Period(date(_year(year), first, 1), _month_end(year, first + 2), f"{year} Q{quarter}")


def _financial_year(year: int) -> Period:
    end = _in_range(date(_year(year) + 1, 3, 31))  # April to March: 2100/01 ends outside the range
    return Period(date(year, 4, 1), end, f"{year}/{str(year + 1)[2:]}")


_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9

_ISO_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_MONTH_YEAR_NUM = re.compile(r"^(\d{1,2})[-/](\d{4})$")
_NAMED_MONTH = re.compile(r"^([a-z]+)\.?[ -]?(\d{4})$")
_QUARTER_A = re.compile(r"^(\d{4})[ -]?q([1-4])$")
_QUARTER_B = re.compile(r"^q([1-4])[ -]?(\d{4})$")
_FINANCIAL_YEAR = re.compile(r"^(\d{4})[-/](\d{2}|\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")


def period(value: Any) -> Period:
    """A month, quarter, financial year, year or date (see ``PERIOD_FORMS``), in the years ``bounds`` allows."""
    if isinstance(value, datetime | date):
        day = a_date(value)
        return Period(day, day, _day_label(day))
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return Period(date(_year(value), 1, 1), date(value, 12, 31), str(value))
    if isinstance(value, str):
        found = _period_from_text(value)
        if found is not None:
            return found
    raise CellError(f"Period does not parse: write {PERIOD_FORMS}")


def _period_from_text(raw: str) -> Period | None:
    cleaned = " ".join(raw.strip().lower().replace(",", " ").split())
    try:
        if match := _QUARTER_A.match(cleaned):
            return quarter_period(int(match.group(1)), int(match.group(2)))
        if match := _QUARTER_B.match(cleaned):
            return quarter_period(int(match.group(2)), int(match.group(1)))
        iso_month = _ISO_MONTH.match(cleaned)
        if iso_month and "-" in cleaned and 1 <= int(iso_month.group(2)) <= 12:
            return month_period(int(iso_month.group(1)), int(iso_month.group(2)))
        if (match := _FINANCIAL_YEAR.match(cleaned)) and _is_next_year(match.group(1), match.group(2)):
            return _financial_year(int(match.group(1)))
        if iso_month:
            month = int(iso_month.group(2))
            return month_period(int(iso_month.group(1)), month) if 1 <= month <= 12 else None
        if match := _MONTH_YEAR_NUM.match(cleaned):
            month = int(match.group(1))
            return month_period(int(match.group(2)), month) if 1 <= month <= 12 else None
        if (match := _NAMED_MONTH.match(cleaned)) and match.group(1) in _MONTHS:
            return month_period(int(match.group(2)), _MONTHS[match.group(1)])
        if match := _YEAR.match(cleaned):
            year = _year(int(match.group(1)))
            return Period(date(year, 1, 1), date(year, 12, 31), str(year))
    except CellOutOfRange:
        raise
    except ValueError:
        return None
    day = _date_from_text(raw)
    if day is not None:
        day = _in_range(day)
        return Period(day, day, _day_label(day))
    return None


def date_or_period(value: Any) -> Period:
    """A cell meant as a date, where a month, quarter or year (any ``period``) is understood too; refused
    with the words of a date, which is what the column asks for."""
    try:
        return period(value)
    except CellOutOfRange:
        raise
    except CellError:
        raise CellError(f"Date does not parse: write it as {DATE_FORMS}, or a month such as 2026-03") from None


def period_text(start: date | None, end: date | None) -> str:
    """A stretch of dates as people write it: 5 Jan 2026, 5 Jan to 31 Mar 2026, Mar 2026."""
    if start is None:
        return ""
    if end is None or end == start:
        return _day_label(start)
    if start.day == 1 and end == _month_end(end.year, end.month):
        if (start.year, start.month) == (end.year, end.month):
            return f"{calendar.month_abbr[start.month]} {start.year}"
        first = calendar.month_abbr[start.month] + ("" if start.year == end.year else f" {start.year}")
        return f"{first} to {calendar.month_abbr[end.month]} {end.year}"
    first = f"{start.day} {calendar.month_abbr[start.month]}" + ("" if start.year == end.year else f" {start.year}")
    return f"{first} to {_day_label(end)}"


def _day_label(day: date) -> str:
    return f"{day.day} {calendar.month_abbr[day.month]} {day.year}"


def _is_next_year(first: str, second: str) -> bool:
    year = int(first)
    return int(second) == (year + 1) % 100 if len(second) == 2 else int(second) == year + 1
