"""Numbers, dates and ids at and just past every bound, through every import: its preview and its confirm alike.

A value at a bound passes the preview and the confirm writes it; a value past it is named in the preview by row
and column, and confirming anyway writes nothing. The confirm never fails after a preview without problems, and
nothing answers 500.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from evidence.db import db
from evidence.models import EvidenceItem
from evidence.vocab import Kind, Role
from tests.factories import make_item
from tests.portal.test_imports import csv_file
from tests.portal.test_out_of_range_forms import HUGE, YEARS, Refused, database, each

SURVEY = ["Survey name", "Question", "Result", "Respondents", "Period start", "Period end"]
METRIC = ["Metric", "Period", "Value", "Unit", "Direction", "Target", "England average", "Comparator",
          "Comparator value"]  # fmt: skip
QUOTE = ["Quote", "Speaker role", "Voice", "Tone", "Period"]
REGISTER = ["Reference", "Title", "Source", "Period start", "Period end", "Review by"]
BASE = {
    "survey": {"Survey name": "ASCS", "Question": "Do you feel safe?", "Result": "72%", "Respondents": "390",
               "Period start": "05/01/2026", "Period end": "31/03/2026"},
    "metric": {"Metric": "Assessment quality", "Period": "2026 Q1", "Value": "28", "Unit": "score",
               "Direction": "lower", "Target": "21", "England average": "24", "Comparator": "Shire counties",
               "Comparator value": "25"},
    "quote": {"Quote": "They listened to me.", "Speaker role": "Carer", "Voice": "carer", "Tone": "facilitator",
              "Period": "2026-03"},
    "register": {"Title": "Carers feel listened to", "Source": "SACE", "Period start": "01/04/2026",
                 "Period end": "30/06/2026", "Review by": "30/06/2027"},
}  # fmt: skip
HEADERS = {"survey": SURVEY, "metric": METRIC, "quote": QUOTE, "register": REGISTER}


def _letter(kind: str, column: str) -> str:
    return "ABCDEFGHIJ"[HEADERS[kind].index(column)]


# The column that names each row's item: made unique for each value tried, so the items never meet.
IDENTITY = {"survey": "Question", "metric": "Metric", "quote": "Quote"}
_serial = iter(range(1, 10**6))


def rows_for(kind: str, column: str, value, reference: str | None) -> list[list]:
    row = {**BASE[kind], "Reference": reference, column: value}
    if kind in IDENTITY:
        row[IDENTITY[kind]] += f" ({next(_serial)})"
    if column == "Period start":
        row["Period end"] = value  # a single day, so that the end is never before the start
    return [HEADERS[kind], [row.get(name) for name in HEADERS[kind]]]


@dataclass(frozen=True)
class Raw:
    """A number cell holding exactly this text in the sheet's XML (openpyxl itself never writes 1e309)."""

    text: str

    def __str__(self) -> str:
        return self.text


PLACEHOLDER = 987654321


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    raw = None
    for row in rows:
        book.active.append([PLACEHOLDER if isinstance(v, Raw) else v for v in row])
        raw = next((v for v in row if isinstance(v, Raw)), raw)
    buffer = io.BytesIO()
    book.save(buffer)
    if raw is None:
        return buffer.getvalue()
    patched = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(patched, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = data.replace(f"<v>{PLACEHOLDER}</v>".encode(), f"<v>{raw.text}</v>".encode())
            target.writestr(info, data)
    return patched.getvalue()


def stored(kind: str, column: str):
    """What the import wrote for the column, read back."""
    item = db.session.scalar(select(EvidenceItem).order_by(EvidenceItem.id.desc()).limit(1))
    if kind == "metric" and column in ("Value", "Period"):
        (point,) = item.points
        return point.value if column == "Value" else point.period
    if kind == "metric" and column in ("England average", "Comparator value"):
        name = "England average" if column == "England average" else "Shire counties"
        (point,) = next(s for s in item.comparators if s.name == name).points
        return point.value
    attribute = {
        "Respondents": "respondents",
        "Result": "result_percent",
        "Period start": "period_start",
        "Period": "period_start",
        "Review by": "review_by",
        "Period end": "period_end",
        "Target": "target",
    }[column]
    return getattr(item, attribute)


COUNTS = [
    ("0", 0), ("-0", 0), ("10,000,000", 10_000_000),
    ("10000001", Refused("Too large: at most 10,000,000")),
    ("2147483647", Refused("Too large: at most 10,000,000")),
    ("2147483648", Refused("Too large: at most 10,000,000")),
    ("3000000000", Refused("Too large: at most 10,000,000")),
    ("9" * 20, Refused("Too large: at most 10,000,000")),
    (HUGE, Refused("Too large: at most 10,000,000")),
    ("-1", Refused("Must be 0 or more")),
    ("1e309", Refused("Not a whole number")),
    ("inf", Refused("Not a whole number")),
    ("NaN", Refused("Not a whole number")),
]  # fmt: skip
PERCENTS = [
    ("0", 0.0), ("-0", 0.0), ("100", 100.0), ("100%", 100.0),
    ("100.1", Refused("Percentage over 100")),
    ("-0.1", Refused("Percentage below 0")),
    ("inf", Refused("Not a percentage")),
    ("NaN", Refused("Not a percentage")),
    (HUGE, Refused("Percentage over 100")),
]  # fmt: skip
FIGURE_RANGE = "Out of range: must be between -1,000,000,000,000 and 1,000,000,000,000"
FIGURES = [
    ("1000000000000", 1e12), ("-1,000,000,000,000", -1e12), ("-0", 0.0),
    ("1000000000001", Refused(FIGURE_RANGE)),
    ("-1000000000001", Refused(FIGURE_RANGE)),
    (HUGE, Refused(FIGURE_RANGE)),
    ("1e309", Refused("Not a number")),
    ("inf", Refused("Not a number")),
    ("NaN", Refused("Not a number")),
]  # fmt: skip
DATES = [
    ("01/01/1990", date(1990, 1, 1)),
    ("2100-12-31", date(2100, 12, 31)),
    ("31/12/1989", Refused(f"1989-12-31 {YEARS}")),
    ("01/01/2101", Refused(f"2101-01-01 {YEARS}")),
    ("9999-12-31", Refused(f"9999-12-31 {YEARS}")),
    ("31/12/9999", Refused(f"9999-12-31 {YEARS}")),
    ("0000 Q1", Refused(f"0000 {YEARS}")),
    ("2101 Q1", Refused(f"2101 {YEARS}")),
]
PERIODS = [
    ("1990 Q1", date(1990, 1, 1)),
    ("Jan 1990", date(1990, 1, 1)),
    ("2100 Q4", date(2100, 10, 1)),
    ("2099/00", date(2099, 4, 1)),
    ("1989 Q4", Refused(f"1989 {YEARS}")),
    ("1989", Refused(f"1989 {YEARS}")),
    ("2101-01", Refused(f"2101 {YEARS}")),
    ("0000 Q1", Refused(f"0000 {YEARS}")),
    ("31/12/9999", Refused(f"9999-12-31 {YEARS}")),
    ("2100/01", Refused(f"2101-03-31 {YEARS}")),
]
# Cells a workbook holds as numbers and dates rather than text.
TYPED = [
    ("survey", "Respondents", 3_000_000_000, Refused("Too large: at most 10,000,000")),
    ("survey", "Respondents", 10_000_000, 10_000_000),
    ("survey", "Respondents", Raw("1e309"), Refused("Not a whole number")),
    ("survey", "Result", Raw("1e309"), Refused("Percentage over 100")),
    ("survey", "Period start", datetime(9999, 12, 31), Refused(f"9999-12-31 {YEARS}")),
    ("survey", "Period start", datetime(1990, 1, 1), date(1990, 1, 1)),
    ("metric", "Value", 1e300, Refused(FIGURE_RANGE)),
    ("metric", "Value", Raw("1e309"), Refused(FIGURE_RANGE)),
    ("metric", "Value", Raw("-1e309"), Refused(FIGURE_RANGE)),
    ("metric", "Target", Raw("1.0000000000001e12"), Refused(FIGURE_RANGE)),
    ("metric", "Value", -1e12, -1e12),
    ("metric", "Period", 2101, Refused(f"2101 {YEARS}")),
    ("metric", "Period", datetime(1989, 12, 31), Refused(f"1989-12-31 {YEARS}")),
]

CASES = {
    ("survey", "Respondents"): COUNTS,
    ("survey", "Result"): PERCENTS,
    ("survey", "Period start"): DATES,
    ("metric", "Value"): FIGURES,
    ("metric", "Target"): FIGURES,
    ("metric", "England average"): FIGURES,
    ("metric", "Comparator value"): FIGURES,
    ("metric", "Period"): PERIODS,
    ("quote", "Period"): PERIODS,
    ("register", "Period start"): DATES,
    ("register", "Review by"): DATES,
}


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


_PROBLEM = re.compile(
    r'<th scope="row" class="num">(\d+)</th>\s*<td>(?:<span class="muted">([A-Z]+)</span> )?(.*?)</td>\s*'
    r'<td>(?:<code>(.*?)</code>|<span class="muted">\(blank\)</span>)</td>\s*<td>(.*?)</td>',
    re.S,
)


def problems(response) -> list[tuple[int, str, str, str, str]]:
    """The preview's problems: (row, column letter, column, value shown, reason)."""
    found = _PROBLEM.findall(response.get_data(as_text=True))
    return [(int(row), letter, *(html.unescape(part) for part in rest)) for row, letter, *rest in found]


def run_import(client, kind: str, name: str, data: bytes):
    """Upload, open the preview, confirm: (preview page, confirmation page)."""
    response = client.post(
        f"/import/{kind}", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )
    assert response.status_code == 302, page_text(response)[:2000]
    digest = re.search(r"/preview/([0-9a-f]{64})", response.headers["Location"]).group(1)
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200
    confirmed = client.post(f"/import/{kind}/confirm", data={"digest": digest}, follow_redirects=True)
    assert confirmed.status_code == 200
    return preview, page_text(confirmed)


@pytest.fixture
def lead(login):
    return login(Role.QUALITY_LEAD)


def attempt(client, kind: str, column: str, value, outcome, fmt: str) -> None:
    reference = None
    if kind == "register":
        item = make_item(
            "Carers feel listened to",
            source="SACE",
            review_by=date(2027, 6, 30),
            survey_name="SACE",
            result_percent=1.0,
        )
        reference = item.reference
    rows = rows_for(kind, column, value, reference)
    data = csv_file(rows) if fmt == "csv" else workbook(rows)
    before = database()
    preview, confirmed = run_import(client, kind, f"upload.{fmt}", data)
    if isinstance(outcome, Refused):
        shown = str(value) if len(str(value)) <= 80 else str(value)[:77] + "…"
        found = [(p[1], p[2], p[4]) for p in problems(preview) if p[0] == 2 and (p[3] == shown or fmt == "xlsx")]
        assert (_letter(kind, column), column, outcome.message) in found, problems(preview)
        assert "Nothing was imported" in confirmed
        assert database() == before
    else:
        assert problems(preview) == []
        assert "Nothing was imported" not in confirmed
        assert "Imported" in confirmed or "Updated the evidence register" in confirmed
        db.session.rollback()
        assert stored(kind, column) == outcome


@pytest.mark.parametrize(("kind", "column"), list(CASES), ids=[f"{k}-{c}" for k, c in CASES])
def test_a_csv_cell_at_and_past_its_bound(client, lead, kind, column):
    each(CASES[(kind, column)], lambda value, outcome: attempt(client, kind, column, value, outcome, "csv"))


def test_a_workbook_cell_at_and_past_its_bound(client, lead):
    cases = [((kind, column, value), outcome) for kind, column, value, outcome in TYPED]
    each(cases, lambda case, outcome: attempt(client, *case, outcome, "xlsx"))


@pytest.mark.parametrize("column", ["Value", "Target"])
def test_the_values_and_target_of_a_new_percentage_metric_are_percentages(client, lead, column):
    def attempt_percentage(value, outcome):
        row = {**BASE["metric"], "Metric": f"Reviews on time ({value})", "Unit": "%", "Target": "80", column: value}
        before = database()
        preview, confirmed = run_import(client, "metric", "m.csv", csv_file([METRIC, [row[c] for c in METRIC]]))
        if outcome is None:
            reason = f"{value} is not a percentage between 0 and 100 (the metric's unit is %)"
            assert problems(preview) == [(2, _letter("metric", column), column, value, reason)]
            assert "Nothing was imported" in confirmed and database() == before
        else:
            assert "Imported" in confirmed
            assert stored("metric", column) == outcome

    each([("100", 100.0), ("0", 0.0), ("100.1", None), ("-0.1", None)], attempt_percentage)


def test_a_points_percentage_is_checked_against_an_existing_metrics_unit(client, lead):
    item = make_item("Reviews on time", kind=Kind.METRIC, unit="%", direction="higher")
    before = database()
    rows = [["Metric", "Period", "Value"], [item.reference, "2026 Q1", "100.5"]]
    preview, confirmed = run_import(client, "metric", "m.csv", csv_file(rows))
    reason = "100.5 is not a percentage between 0 and 100 (the metric's unit is %)"
    assert problems(preview) == [(2, "C", "Value", "100.5", reason)]
    assert "Nothing was imported" in confirmed and database() == before


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("E-99999999999999999999", "Not an evidence reference"),
        ("E-2147483648", "Not an evidence reference"),
        ("E-999999999", "No evidence item E-999999999 exists"),
        ("E-0", "No evidence item E-0 exists"),
    ],
)
def test_a_register_reference_that_cannot_exist(client, lead, reference, reason):
    make_item("Carers feel listened to", source="SACE")
    before = database()
    rows = [REGISTER, [reference, "Retitled", "SACE", "", "", "30/06/2027"]]
    preview, confirmed = run_import(client, "register", "r.csv", csv_file(rows))
    assert [(p[1], p[2], p[3]) for p in problems(preview)] == [("A", "Reference", reference)]
    assert reason in problems(preview)[0][4]
    assert "Nothing was imported" in confirmed and database() == before
