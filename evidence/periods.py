"""Periods as English councils write them: one vocabulary for every form, import, the API and the documents.

Understood (any case, any spacing, "-", "–" or "/" between the years):

- financial quarters: Q1 2024/25, 2024/25 Q1, Q1 2024-25, 2024-25 Q1, FY24/25 Q1, Q1 FY 2024/25, Quarter 1 2024/25;
- financial years (April to March): 2024/25, 2024-25, 2024/2025, 2024 to 2025, FY 2024/25, FY24/25;
- months: Apr-24, Apr 24, April 2024, Apr 2024, Sept 2024, 2024-04, 04/2024;
- calendar quarters and years: 2024 Q1, Q1 2024, 2024-Q1, 2024;
- days: 30/09/2026, 30/09/26, 2026-09-30, 30 Sep 2026, 30-Sep-26, a date or date-and-time cell, and a number
  cell holding an Excel date serial (45382 is 31 Mar 2024).

The ambiguous cases, decided:

- a bare year ("2024", or the number 2024) is the calendar year, January to December;
- a quarter with a financial year is a financial quarter: Q1 is April to June, Q4 is January to March of the
  second year ("Q4 2024/25" is Jan–Mar 2025); a quarter with one year is a calendar quarter (Q1 is January
  to March);
- "2011-12" with a hyphen is a month (December 2011, as ISO 8601 writes it), while "2011/12" with a slash is the
  financial year; "2024-25" is the financial year because there is no 25th month;
- a two-digit year is 19xx from 90 to 99 and 20xx otherwise ("Apr-24" is April 2024), and two two-digit years
  ("24/25") are a financial year only after "FY" or beside a quarter: alone they could be a month;
- "FY2025", a financial year named by one year, is refused: councils mean 2024/25 by it as often as 2025/26;
- a number from 1990 to 2100 is a year; a larger whole or decimal number is an Excel date serial (the 1900 date
  system, which every workbook saved on Windows or by a current Mac uses); a serial written as text is not a date.

Every period lies in the years ``evidence.bounds`` allows. A period is shown the way councils write it:
"Q1 2024/25", "2024/25", "Apr 2024", "2024 Q1", "2024", "30 Sep 2026" (``Period.label``), and a stretch of
dates by ``describe``.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from evidence import bounds

MONTH, QUARTER, FINANCIAL_QUARTER, FINANCIAL_YEAR, YEAR, DAY = (
    "month",
    "quarter",
    "financial quarter",
    "financial year",
    "year",
    "day",
)

# What a form asks for, and what a template's notes and a refused cell say in full.
HINT = "a financial quarter like Q1 2024/25, a financial year like 2024/25, a month like Apr 2024 or a year like 2024"
FORMS = (
    "a financial quarter (Q1 2024/25, 2024/25 Q1 or FY24/25 Q1; Q1 is April to June), a financial year "
    "(2024/25, 2024-25 or FY 2024/25, April to March), a month (Apr 2024, Apr-24, April 2024, 2024-04 or 04/2024), "
    "a calendar quarter (2024 Q1 or Q1 2024; Q1 is January to March), a calendar year (2024) or a date "
    "(30/09/2026, 2026-09-30 or a date cell)"
)

EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of Excel's 1900 date system, its leap-year bug included
_MONTH_ABBR = [calendar.month_abbr[m] for m in range(13)]


class PeriodError(ValueError):
    """Text or a cell that is not a period; the message says why in plain words."""


class PeriodOutOfRange(PeriodError):
    """A period that was read but lies outside the years ``bounds`` allows."""


@dataclass(frozen=True)
class Period:
    """A stretch of time a value describes: its first and last days and its name as councils write it."""

    start: date
    end: date
    label: str
    kind: str = field(default=DAY, compare=False)


# --- Building periods ---------------------------------------------------------------------------------------------


def _year(year: int) -> int:
    try:
        return bounds.check_year(year)
    except bounds.OutOfRange as exc:
        raise PeriodOutOfRange(str(exc)) from None


def _day(value: date) -> date:
    try:
        return bounds.check_date(value)
    except bounds.OutOfRange as exc:
        raise PeriodOutOfRange(str(exc)) from None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def month(year: int, number: int) -> Period:
    return Period(date(_year(year), number, 1), _month_end(year, number), f"{_MONTH_ABBR[number]} {year}", MONTH)


def quarter(year: int, number: int) -> Period:
    first = 3 * (number - 1) + 1
    return Period(date(_year(year), first, 1), _month_end(year, first + 2), f"{year} Q{number}", QUARTER)


def financial_year(first_year: int) -> Period:
    end = _day(date(_year(first_year) + 1, 3, 31))  # 2100/01 ends outside the range
    return Period(date(first_year, 4, 1), end, fy_label(first_year), FINANCIAL_YEAR)


def financial_quarter(first_year: int, number: int) -> Period:
    _year(first_year)
    year, first = (first_year, 3 * number + 1) if number < 4 else (first_year + 1, 1)
    start = _day(date(year, first, 1))
    return Period(start, _month_end(year, first + 2), f"Q{number} {fy_label(first_year)}", FINANCIAL_QUARTER)


def calendar_year(year: int) -> Period:
    return Period(date(_year(year), 1, 1), date(year, 12, 31), str(year), YEAR)


def day(value: date) -> Period:
    value = _day(value)
    return Period(value, value, day_label(value), DAY)


def fy_label(first_year: int) -> str:
    return f"{first_year}/{(first_year + 1) % 100:02d}"


def day_label(value: date) -> str:
    return f"{value.day} {_MONTH_ABBR[value.month]} {value.year}"


# --- Reading ------------------------------------------------------------------------------------------------------


def parse(value: Any) -> Period:
    """The period ``value`` names: text as people write it, a date or datetime cell, a year or an Excel serial."""
    if isinstance(value, bool) or value is None:
        raise PeriodError(_refusal(value))
    if isinstance(value, datetime):
        return day(value.date())
    if isinstance(value, date):
        return day(value)
    if isinstance(value, int | float):
        return _from_number(value)
    if isinstance(value, str):
        return _from_text(value)
    raise PeriodError(_refusal(value))


def parse_day(value: Any) -> date:
    """One day: a date or datetime cell, an Excel date serial, or a date written as text (30/09/2026)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise PeriodError(_refusal(value))
        if not bounds.FIRST_DATE.year <= value <= bounds.LAST_DATE.year:
            found = _from_number(value)
            if found.kind == DAY:
                return found.start
        raise PeriodError(_refusal(value))
    if isinstance(value, str):
        found_day = _date_from_text(_clean(value))
        if found_day is None:
            raise PeriodError(_refusal(value))
        return day(found_day).start
    if isinstance(value, date):
        return parse(value).start
    raise PeriodError(_refusal(value))


def point_period(value: Any) -> Period:
    """The period of a metric's point: a month, quarter or year, where a single day counts as its month."""
    period = parse(value)
    if period.kind == DAY:
        return month(period.start.year, period.start.month)
    return period


def _refusal(value: Any) -> str:
    shown = " ".join("".join(ch for ch in str(value) if ch.isprintable()).split()) if value is not None else ""
    if len(shown) > 40:
        shown = shown[:39] + "…"
    return f"“{shown}” is not a period the portal understands: write {HINT}"


def _from_number(number: int | float) -> Period:
    try:
        whole = float(number).is_integer()
    except OverflowError:  # an int too long for a float
        whole = True
    if whole and bounds.FIRST_DATE.year <= number <= bounds.LAST_DATE.year:
        return calendar_year(int(number))
    if whole and 1000 <= number <= 9999:
        _year(int(number))  # a year, outside the range: say so rather than read a serial from 1902
    first, last = (_serial(bounds.FIRST_DATE), _serial(bounds.LAST_DATE))
    if first <= number < last + 1:  # a serial's fraction is the time of day
        return day(EXCEL_EPOCH + timedelta(days=int(number)))
    if 10_000 <= number < 10**6:  # a serial, outside the years
        raise PeriodOutOfRange(f"the Excel date {number:g} is outside {bounds.YEARS}")
    raise PeriodError(_refusal(number))


def _serial(value: date) -> int:
    return (value - EXCEL_EPOCH).days


def excel_date(serial: int | float) -> date:
    """The day an Excel date serial names (a cell the workbook kept as a plain number)."""
    return EXCEL_EPOCH + timedelta(days=int(serial))


_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_MONTHS.update({"sept": 9, "june": 6, "july": 7})

_Y = r"(\d{4}|\d{2})"
_FY = rf"(?P<fy>fy\s*)?(?P<y1>{_Y})\s*(?:/|-|to)\s*(?P<y2>{_Y})"
_FY_QUARTER = (
    re.compile(rf"^q(?P<q>[1-4])\s*-?\s*{_FY}$"),
    re.compile(rf"^{_FY}\s*-?\s*q(?P<q>[1-4])$"),
)
_FY_ALONE = re.compile(rf"^{_FY}$")
_CAL_QUARTER = (
    re.compile(r"^(?P<y>\d{4})\s*-?\s*q(?P<q>[1-4])$"),
    re.compile(r"^q(?P<q>[1-4])\s*-?\s*(?P<y>\d{4})$"),
)
_NUMERIC_MONTH = re.compile(r"^(?P<m>\d{1,2})\s*[-/.]\s*(?P<y>\d{4})$|^(?P<y2>\d{4})\s*[-/]\s*(?P<m2>\d)$")
_NAMED_MONTH = re.compile(r"^(?P<name>[a-z]+)\.?\s*[-' ]?\s*'?(?P<y>\d{4}|\d{2})$")
_YEAR = re.compile(r"^\d{4}$")
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_MIDNIGHT = re.compile(r"[ t]00:00(:00(\.0+)?)?$")
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d %b %y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d-%B-%Y",
)


def _full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        return 1900 + year if year >= 90 else 2000 + year
    return year


def _clean(raw: str) -> str:
    text = _DASHES.sub("-", raw).replace("\u00a0", " ").lower()
    text = re.sub(r"\bfinancial year\b", "fy", text)
    text = re.sub(r"\bquarter\s*", "q", text)
    text = text.replace(",", " ")
    return " ".join(text.split()).strip(" .")


def _from_text(raw: str) -> Period:
    text = _clean(raw)
    if not text:
        raise PeriodError(f"enter a period: {HINT}")
    if len(text) > 40:
        raise PeriodError(_refusal(raw))
    for pattern in _FY_QUARTER:
        if match := pattern.match(text):
            return financial_quarter(_fy_start(match, raw, short_ok=True), int(match.group("q")))
    for pattern in _CAL_QUARTER:
        if match := pattern.match(text):
            return quarter(int(match.group("y")), int(match.group("q")))
    if match := _FY_ALONE.match(text):
        found = _fy_or_month(match, raw)
        if found is not None:
            return found
    if match := _NUMERIC_MONTH.match(text):
        number = int(match.group("m") or match.group("m2"))
        if 1 <= number <= 12:
            return month(int(match.group("y") or match.group("y2")), number)
    if (match := _NAMED_MONTH.match(text)) and match.group("name") in _MONTHS:
        return month(_full_year(match.group("y")), _MONTHS[match.group("name")])
    if _YEAR.match(text):
        return calendar_year(int(text))
    found_day = _date_from_text(text)
    if found_day is not None:
        return day(found_day)
    if text.startswith("fy") and re.fullmatch(r"fy\s*-?\s*\d{2,4}", text):
        raise PeriodError(f"“{raw.strip()}” names one year: write the financial year in full, like 2024/25")
    raise PeriodError(_refusal(raw))


def _fy_start(match: re.Match, raw: str, short_ok: bool) -> int:
    """The first year of the financial year a match names, refusing years that do not follow each other."""
    first_text, second_text = match.group("y1"), match.group("y2")
    if len(first_text) == 2 and not (short_ok or match.group("fy")):
        raise PeriodError(_refusal(raw))
    first, second = _full_year(first_text), int(second_text)
    follows = second == (first + 1) % 100 if len(second_text) == 2 else second == first + 1
    if not follows:
        raise PeriodError(
            f"“{raw.strip()}” is not a financial year: the second year must follow the first, "
            f"as in {fy_label(_year(first))}"
        )
    return first


def _fy_or_month(match: re.Match, raw: str) -> Period | None:
    """2024/25, 2024-25, FY24/25: a financial year. 2024-04 and 2024/04: a month (see the module's notes)."""
    first_text, second_text, text = match.group("y1"), match.group("y2"), match.group(0)
    if not match.group("fy") and "to" not in text:
        if len(first_text) == 2:
            return None  # "24/25" alone, or "04/2024": not said that it is a financial year
        if len(second_text) == 2:
            number, first = int(second_text), int(first_text)
            is_next = number == (first + 1) % 100
            if 1 <= number <= 12 and ("-" in text or not is_next):
                return month(first, number)
            if not is_next:
                return None
    return financial_year(_fy_start(match, raw, short_ok=False))


def _date_from_text(text: str) -> date | None:
    cleaned = _MIDNIGHT.sub("", text)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


# --- Writing ------------------------------------------------------------------------------------------------------


def describe(start: date | None, end: date | None = None) -> str:
    """A stretch of dates as councils write it: 3 Apr 2026, Sep 2026, Apr–Jun 2026, 2026, 2025/26,
    Oct 2025 – Mar 2026, 3 Apr 2026 – 17 Jun 2026."""
    if not start:
        return ""
    if not end or end == start:
        return day_label(start)
    whole_months = start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1] and end >= start
    if not whole_months:
        return f"{day_label(start)} – {day_label(end)}"
    if (start.month, end.month, end.year) == (4, 3, start.year + 1):
        return fy_label(start.year)
    if start.year == end.year:
        if start.month == 1 and end.month == 12:
            return str(start.year)
        if start.month == end.month:
            return f"{_MONTH_ABBR[start.month]} {start.year}"
        return f"{_MONTH_ABBR[start.month]}–{_MONTH_ABBR[end.month]} {end.year}"
    return f"{_MONTH_ABBR[start.month]} {start.year} – {_MONTH_ABBR[end.month]} {end.year}"
