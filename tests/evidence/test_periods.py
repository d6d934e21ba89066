"""The one period vocabulary: every spelling councils use, and the ones it refuses, with the reason."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from evidence import periods
from evidence.periods import DAY, FINANCIAL_QUARTER, FINANCIAL_YEAR, MONTH, QUARTER, YEAR

FQ1 = (date(2024, 4, 1), date(2024, 6, 30), "Q1 2024/25", FINANCIAL_QUARTER)
FY = (date(2024, 4, 1), date(2025, 3, 31), "2024/25", FINANCIAL_YEAR)
APRIL = (date(2024, 4, 1), date(2024, 4, 30), "Apr 2024", MONTH)

GOOD = [
    # Financial quarters: Q1 is April to June, Q4 is January to March of the second year.
    ("Q1 2024/25", FQ1),
    ("2024/25 Q1", FQ1),
    ("Q1 2024-25", FQ1),
    ("2024-25 Q1", FQ1),
    ("FY24/25 Q1", FQ1),
    ("FY 2024/25 Q1", FQ1),
    ("Q1 FY24/25", FQ1),
    ("Q1 FY 2024-25", FQ1),
    ("q1 2024/2025", FQ1),
    ("Q1 24/25", FQ1),
    ("Quarter 1 2024/25", FQ1),
    ("Q1 2024–25", FQ1),  # an en dash, as a Word document writes it
    ("  Q1   2024/25 ", FQ1),
    ("Q2 2024/25", (date(2024, 7, 1), date(2024, 9, 30), "Q2 2024/25", FINANCIAL_QUARTER)),
    ("Q3 2024/25", (date(2024, 10, 1), date(2024, 12, 31), "Q3 2024/25", FINANCIAL_QUARTER)),
    ("Q4 2024/25", (date(2025, 1, 1), date(2025, 3, 31), "Q4 2024/25", FINANCIAL_QUARTER)),
    ("2099/00 Q4", (date(2100, 1, 1), date(2100, 3, 31), "Q4 2099/00", FINANCIAL_QUARTER)),
    # Financial years, April to March.
    ("2024/25", FY),
    ("2024-25", FY),
    ("2024/2025", FY),
    ("2024-2025", FY),
    ("2024 to 2025", FY),
    ("FY 2024/25", FY),
    ("FY2024/25", FY),
    ("FY24/25", FY),
    ("fy 24-25", FY),
    ("Financial year 2024/25", FY),
    ("2024–25", FY),
    ("2011/12", (date(2011, 4, 1), date(2012, 3, 31), "2011/12", FINANCIAL_YEAR)),
    ("1999/00", (date(1999, 4, 1), date(2000, 3, 31), "1999/00", FINANCIAL_YEAR)),
    # Months.
    ("Apr-24", APRIL),
    ("Apr 24", APRIL),
    ("April 2024", APRIL),
    ("Apr 2024", APRIL),
    ("apr-2024", APRIL),
    ("April-24", APRIL),
    ("Apr'24", APRIL),
    ("Apr. 2024", APRIL),
    ("2024-04", APRIL),
    ("2024-4", APRIL),
    ("2024/04", APRIL),
    ("04/2024", APRIL),
    ("4/2024", APRIL),
    ("Sept 2026", (date(2026, 9, 1), date(2026, 9, 30), "Sep 2026", MONTH)),
    ("2011-12", (date(2011, 12, 1), date(2011, 12, 31), "Dec 2011", MONTH)),  # hyphen: ISO's month
    ("Apr-95", (date(1995, 4, 1), date(1995, 4, 30), "Apr 1995", MONTH)),
    # Calendar quarters and years.
    ("2024 Q1", (date(2024, 1, 1), date(2024, 3, 31), "2024 Q1", QUARTER)),
    ("Q1 2024", (date(2024, 1, 1), date(2024, 3, 31), "2024 Q1", QUARTER)),
    ("2024-Q3", (date(2024, 7, 1), date(2024, 9, 30), "2024 Q3", QUARTER)),
    ("2024Q4", (date(2024, 10, 1), date(2024, 12, 31), "2024 Q4", QUARTER)),
    ("2024", (date(2024, 1, 1), date(2024, 12, 31), "2024", YEAR)),
    (2024, (date(2024, 1, 1), date(2024, 12, 31), "2024", YEAR)),  # a number cell
    (2024.0, (date(2024, 1, 1), date(2024, 12, 31), "2024", YEAR)),
    # Days, date cells and Excel serials.
    ("30/09/2026", (date(2026, 9, 30), date(2026, 9, 30), "30 Sep 2026", DAY)),
    ("30/09/26", (date(2026, 9, 30), date(2026, 9, 30), "30 Sep 2026", DAY)),
    ("2026-09-30", (date(2026, 9, 30), date(2026, 9, 30), "30 Sep 2026", DAY)),
    ("30 Sep 2026", (date(2026, 9, 30), date(2026, 9, 30), "30 Sep 2026", DAY)),
    ("30 September 2026", (date(2026, 9, 30), date(2026, 9, 30), "30 Sep 2026", DAY)),
    ("30-Sep-26", (date(2026, 9, 30), date(2026, 9, 30), "30 Sep 2026", DAY)),
    ("2026-09-30 00:00:00", (date(2026, 9, 30), date(2026, 9, 30), "30 Sep 2026", DAY)),
    (datetime(2024, 3, 31), (date(2024, 3, 31), date(2024, 3, 31), "31 Mar 2024", DAY)),
    (date(2024, 3, 31), (date(2024, 3, 31), date(2024, 3, 31), "31 Mar 2024", DAY)),
    (45382, (date(2024, 3, 31), date(2024, 3, 31), "31 Mar 2024", DAY)),  # Excel's serial for 31/03/2024
    (45382.75, (date(2024, 3, 31), date(2024, 3, 31), "31 Mar 2024", DAY)),  # 6pm that day
]

BAD = [
    ("", "enter a period"),
    ("   ", "enter a period"),
    (None, "is not a period"),
    (True, "is not a period"),
    ("soon", "is not a period"),
    ("Smarch 2026", "is not a period"),
    ("Q5 2024/25", "is not a period"),
    ("2026 Q5", "is not a period"),
    ("Q0 2024", "is not a period"),
    ("2026-13", "is not a period"),
    ("13/2024", "is not a period"),
    ("2024/26", "is not a period"),
    ("2024/2026", "the second year must follow the first, as in 2024/25"),
    ("FY 2024/26", "the second year must follow the first"),
    ("Q1 2024/26", "the second year must follow the first"),
    ("24/25", "is not a period"),  # two two-digit years alone: a month or a year?
    ("04/24", "is not a period"),
    ("FY2025", "names one year: write the financial year in full"),
    ("FY 25", "names one year"),
    ("31/02/2026", "is not a period"),
    ("45382", "is not a period"),  # a serial as text is not read as a date
    ("26-09", "is not a period"),
    ("Sept", "is not a period"),
    ("Q1", "is not a period"),
    ("x" * 5000, "is not a period"),
    ("Q1\x00 2024/25", "is not a period"),
    (12, "is not a period"),
    (-5, "is not a period"),
    (float("inf"), "is not a period"),
    (float("nan"), "is not a period"),
    (10**400, "is not a period"),
    # Outside the years the portal stores: named as such.
    ("0000 Q1", "0000 is outside the years 1990–2100"),
    ("Dec 1989", "1989 is outside the years 1990–2100"),
    ("9999-12", "9999 is outside the years 1990–2100"),
    ("Jan 2101", "2101 is outside the years 1990–2100"),
    ("2100/01", "2101-03-31 is outside the years 1990–2100"),
    ("Q4 2100/01", "2101-01-01 is outside the years 1990–2100"),
    ("Q1 1989/90", "1989 is outside the years 1990–2100"),
    (1989, "1989 is outside the years 1990–2100"),
    (20000, "the Excel date 20000 is outside the years 1990–2100"),
    ("31/12/9999", "9999-12-31 is outside the years 1990–2100"),
]


def test_the_table_is_long_enough_to_mean_something():
    assert len(GOOD) + len(BAD) >= 60


@pytest.mark.parametrize(("raw", "expected"), GOOD, ids=[repr(raw) for raw, _ in GOOD])
def test_a_period_as_councils_write_it(raw, expected):
    period = periods.parse(raw)
    assert (period.start, period.end, period.label, period.kind) == expected


@pytest.mark.parametrize(("raw", "reason"), BAD, ids=[repr(raw)[:30] for raw, _ in BAD])
def test_a_period_that_is_refused_says_why(raw, reason):
    with pytest.raises(periods.PeriodError, match=reason) as refused:
        periods.parse(raw)
    assert len(str(refused.value)) < 300  # the text it quotes is cut short
    assert "\x00" not in str(refused.value)
    if "outside" in reason:
        assert isinstance(refused.value, periods.PeriodOutOfRange)


def test_a_label_reads_back_as_the_same_period():
    for raw, _ in GOOD:
        period = periods.parse(raw)
        assert periods.parse(period.label) == period


def test_a_metric_point_is_a_month_when_a_day_is_given():
    assert periods.point_period("30/09/2026").label == "Sep 2026"
    assert periods.point_period("Q1 2024/25").label == "Q1 2024/25"


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        (date(2024, 4, 1), date(2025, 3, 31), "2024/25"),
        (date(2024, 4, 1), date(2024, 6, 30), "Apr–Jun 2024"),
        (date(2024, 4, 1), date(2024, 4, 30), "Apr 2024"),
        (date(2024, 1, 1), date(2024, 12, 31), "2024"),
        (date(2023, 4, 1), date(2025, 3, 31), "Apr 2023 – Mar 2025"),
        (date(2024, 4, 3), date(2024, 6, 17), "3 Apr 2024 – 17 Jun 2024"),
        (date(2024, 4, 3), None, "3 Apr 2024"),
        (None, None, ""),
    ],
)
def test_a_stretch_of_dates_is_described_as_councils_write_it(start, end, shown):
    assert periods.describe(start, end) == shown
