"""The bounds of every stored number and date, as the domain applies them to scripts and future API callers alike.

The web forms and imports say the same before a value gets this far (tests/portal/test_out_of_range_*.py);
here each domain function is given values at and just past each bound directly.
"""

from __future__ import annotations

import math
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from evidence import bounds
from evidence.assessment.actions import ActionError, create_action
from evidence.assessment.round_view import live_view
from evidence.assessment.rounds import sign_off
from evidence.db import db
from evidence.imports import cells
from evidence.library import items, metrics
from evidence.library.items import ItemError, VersionConflict
from evidence.models import AuditEvent, EvidenceItem, MetricPoint
from evidence.vocab import Kind, Role
from portal.ids import id_arg
from tests.factories import make_item, make_round, statement

INF, NAN = float("inf"), float("nan")
SURVEY = {"title": "Carers feel listened to", "source": "SACE", "survey_name": "SACE", "result_percent": 61.0}
METRIC = {"title": "Days to assessment", "source": "LAS", "direction": "lower"}


@pytest.fixture
def lead(make_user):
    return make_user(Role.QUALITY_LEAD)


def item_count() -> int:
    return db.session.scalar(select(func.count(EvidenceItem.id)))


# --- The ranges themselves -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bound", "value", "expected"),
    [
        (bounds.COUNT, 0, 0),
        (bounds.COUNT, 10_000_000, 10_000_000),
        (bounds.COUNT, 12.0, 12),
        (bounds.PERCENT, -0.0, 0.0),
        (bounds.PERCENT, 100, 100.0),
        (bounds.MEASURE, -1e12, -1e12),
        (bounds.MEASURE, 1e12, 1e12),
    ],
)
def test_a_value_at_a_bound_is_held_as_it_is_stored(bound, value, expected):
    held = bound.check(value)
    assert held == expected and type(held) is type(expected)
    assert math.copysign(1, held) == 1 or held != 0  # never a negative zero


@pytest.mark.parametrize(
    ("bound", "value", "message"),
    [
        (bounds.COUNT, 10_000_001, "10,000,001 is not between 0 and 10,000,000"),
        (bounds.COUNT, -1, "-1 is not between 0 and 10,000,000"),
        (bounds.COUNT, 2**31, "2,147,483,648 is not between 0 and 10,000,000"),
        (bounds.COUNT, 10**20, "a number of more than 16 digits is not between 0 and 10,000,000"),
        pytest.param(
            bounds.COUNT, 10**5000, "a number of more than 16 digits is not between 0 and 10,000,000", id="5000-digits"
        ),
        (bounds.COUNT, 1.5, "1.5 is not a whole number"),
        (bounds.COUNT, True, "“True” is not a number"),
        (bounds.PERCENT, 100.1, "100.1 is not between 0 and 100"),
        (bounds.PERCENT, -0.1, "-0.1 is not between 0 and 100"),
        (bounds.PERCENT, NAN, "nan is not a number"),
        (bounds.MEASURE, INF, "inf is not a number"),
        (bounds.MEASURE, -INF, "-inf is not a number"),
        (bounds.MEASURE, 1e12 + 1, "1,000,000,000,001 is not between -1,000,000,000,000 and 1,000,000,000,000"),
        (bounds.MEASURE, 1e300, "1e+300 is not between -1,000,000,000,000 and 1,000,000,000,000"),
        (bounds.MEASURE, "12", "“12” is not a number"),
    ],
)
def test_a_value_past_a_bound_is_refused_saying_why(bound, value, message):
    with pytest.raises(bounds.OutOfRange, match=f"^{message}$".replace("+", r"\+")):
        bound.check(value)
    assert not bound.holds(value)


@pytest.mark.parametrize(
    ("day", "held"),
    [
        (date(1990, 1, 1), True),
        (date(2100, 12, 31), True),
        (date(1989, 12, 31), False),
        (date(2101, 1, 1), False),
        (date(9999, 12, 31), False),
        (date(1, 1, 1), False),
    ],
)
def test_dates_fall_in_the_years_1990_to_2100(day, held):
    if held:
        assert bounds.check_date(day) == day
    else:
        with pytest.raises(bounds.OutOfRange, match=f"^{day.isoformat()} is outside the years 1990–2100$"):
            bounds.check_date(day)


def test_a_date_months_later_never_passes_the_range_nor_overflows():
    assert bounds.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert bounds.add_months(date(2100, 6, 30), 12) == bounds.LAST_DATE
    assert bounds.add_months(date(9999, 12, 31), 12) == bounds.LAST_DATE  # date(10000, ...) would raise
    assert items.default_review_by(Kind.QUOTE, date(2100, 12, 31)) == date(2100, 12, 31)


def test_json_columns_never_receive_nan_or_infinity(app):
    assert bounds.json_dumps({"a": [1.5, INF, {"b": NAN}], "c": -INF}) == '{"a": [1.5, null, {"b": null}], "c": null}'
    db.session.add(AuditEvent(action="test", entity_type="test", after={"value": INF, "kept": 2.5}))
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(select(AuditEvent.after)) == {"value": None, "kept": 2.5}


def test_an_id_of_any_length_beyond_max_id_is_no_id():
    assert id_arg(str(bounds.MAX_ID)) == bounds.MAX_ID
    assert id_arg(str(bounds.MAX_ID + 1)) is None
    assert id_arg("9" * 5000) is None  # int() of so many digits raises; it must not be asked


# --- The domain functions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"respondents": 10_000_001}, "Respondents (n): 10,000,001 is not between 0 and 10,000,000"),
        ({"respondents": 3_000_000_000}, "Respondents (n): 3,000,000,000 is not between 0 and 10,000,000"),
        ({"result_percent": NAN}, "Result (%): must be between 0 and 100"),
        ({"result_percent": INF}, "Result (%): must be between 0 and 100"),
        ({"period_start": date(9999, 12, 31)}, "Period start: 9999-12-31 is outside the years 1990–2100"),
        ({"period_start": date(1989, 12, 31)}, "Period start: 1989-12-31 is outside the years 1990–2100"),
        (
            {"period_start": date(2026, 1, 1), "period_end": date(2101, 1, 1)},
            "Period end: 2101-01-01 is outside the years 1990–2100",
        ),
        ({"review_by": date(9999, 12, 31)}, "Review by: 9999-12-31 is outside the years 1990–2100"),
    ],
)
def test_a_survey_past_a_bound_is_refused_by_name_and_nothing_is_saved(app, lead, change, message):
    with pytest.raises(ItemError, match=message.replace("(", r"\(").replace(")", r"\)")):
        items.create_item(Kind.SURVEY, {**SURVEY, **change}, user=lead)
    assert item_count() == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"target": INF}, "Target: inf is not a number"),
        ({"target": -1e12 - 1}, "Target: -1,000,000,000,001 is not between"),
        ({"comparator_value": 1.0}, "comparator_value do not belong to a metric"),
        ({"cases_reviewed": 1}, "cases_reviewed do not belong to a metric"),
    ],
)
def test_a_metric_past_a_bound_is_refused_by_name(app, lead, change, message):
    with pytest.raises(ItemError, match=message):
        items.create_item(Kind.METRIC, {**METRIC, **change}, user=lead)
    assert item_count() == 0


def test_values_at_the_bounds_are_kept(app, lead):
    survey = items.create_item(
        Kind.SURVEY,
        {**SURVEY, "respondents": 10_000_000, "result_percent": 100.0, "period_start": date(1990, 1, 1),
         "period_end": date(2100, 12, 31)},
        user=lead,
    )  # fmt: skip
    assert (survey.respondents, survey.period_start, survey.period_end) == (
        10_000_000,
        date(1990, 1, 1),
        bounds.LAST_DATE,
    )
    assert survey.review_by == bounds.LAST_DATE  # twelve months after the range ends is the range's end
    metric = items.create_item(
        Kind.METRIC, {**METRIC, "target": -1e12}, user=lead, points=[("1990 Q1", 1e12), ("2100 Q4", -0.0)]
    )
    assert [(p.period, p.value) for p in metric.points] == [(date(1990, 1, 1), 1e12), (date(2100, 10, 1), 0.0)]


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([("2026 Q1", INF)], "Point 1: inf is not a number (the value for 2026 Q1)"),
        ([("2026 Q1", 1), ("2026 Q2", NAN)], "Point 2: nan is not a number (the value for 2026 Q2)"),
        ([("2026 Q1", 1e13)], "Point 1: 10,000,000,000,000 is not between"),
        ([("0000 Q1", 1)], "Point 1: 0000 is outside the years 1990–2100"),
        ([("Dec 1989", 1)], "Point 1: 1989 is outside the years 1990–2100"),
        ([("2101-01", 1)], "Point 1: 2101 is outside the years 1990–2100"),
    ],
)
def test_a_metrics_points_past_a_bound_are_refused(app, lead, points, message):
    with pytest.raises(ItemError, match=re.escape(message)):
        items.create_item(Kind.METRIC, METRIC, user=lead, points=points)
    assert item_count() == 0


@pytest.mark.parametrize("text", ["0000 Q1", "Q1 0000", "1989 Q4", "2101 Q1", "9999-12", "Jan 2101", "December 1989"])
def test_a_period_outside_the_years_is_named(text):
    with pytest.raises(metrics.MetricError, match="is outside the years 1990–2100"):
        metrics.parse_period(text)


@pytest.mark.parametrize(
    ("unit", "value", "message"),
    [
        ("", INF, "inf is not a number"),
        ("", NAN, "nan is not a number"),
        ("", -1e13, "-10,000,000,000,000 is not between"),
        ("%", 100.5, "100.5 is not a percentage between 0 and 100"),
    ],
)
def test_add_point_refuses_a_value_past_its_bound(app, lead, unit, value, message):
    item = make_item("Days to assessment", kind=Kind.METRIC, direction="lower", unit=unit)
    with pytest.raises(metrics.MetricError, match=message) as caught:
        metrics.add_point(item, "2026 Q1", value, lead)
    assert caught.value.field == "value"
    assert db.session.scalar(select(func.count(MetricPoint.id))) == 0


def test_an_item_with_a_stored_year_9999_can_still_be_corrected(app, lead):
    item = make_item("Carers feel listened to", period_start=date(2026, 1, 1), period_end=date(9999, 12, 31), **{
        k: v for k, v in SURVEY.items() if k != "title"
    })  # fmt: skip
    with pytest.raises(ItemError, match="Period end: 9999-12-31 is outside"):
        items.update_item(item, {"title": "Retitled"}, user=lead)
    items.update_item(item, {"period_end": date(2026, 3, 31)}, user=lead)
    assert (item.period_end, item.review_by) == (date(2026, 3, 31), item.review_by)


@pytest.mark.parametrize("version", ["abc", "1.5", "", "99999999999999999999"])
def test_an_unreadable_version_is_a_conflict_not_an_error(app, lead, version):
    item = items.create_item(Kind.SURVEY, SURVEY, user=lead)
    with pytest.raises(VersionConflict):
        items.update_item(item, {"title": "Retitled"}, user=lead, expected_version=version or "x")


@pytest.mark.parametrize(
    ("due", "message"),
    [
        (date(9999, 12, 31), "Due date: 9999-12-31 is outside the years 1990–2100."),
        (date(1989, 12, 31), "Due date: 1989-12-31 is outside the years 1990–2100."),
        (date(2100, 12, 31), None),
        (date(1990, 1, 1), None),
    ],
)
def test_an_actions_due_date_is_bounded(app, lead, due, message):
    data = {"description": "Audit S42 timeliness", "owner": "Head of Safeguarding", "due_date": due}
    if message is None:
        assert create_action(statement("safeguarding"), data, lead, make_round()).due_date == due
        return
    with pytest.raises(ActionError) as caught:
        create_action(statement("safeguarding"), data, lead, make_round())
    assert caught.value.errors == {"due_date": message}


def test_a_stored_infinity_counts_as_missing_in_the_view_the_snapshot_and_its_json(app, lead):
    item = make_item("Days to assessment", kind=Kind.METRIC, direction="lower", target=INF)
    item.points.append(MetricPoint(period=date(2026, 1, 1), label="Jan 2026", value=-INF))
    item.points.append(MetricPoint(period=date(2026, 2, 1), label="Feb 2026", value=12.0))
    db.session.commit()
    round_ = make_round()
    view = live_view(round_).items[item.id]
    assert "target" not in view.details and [p.label for p in view.points] == ["Feb 2026"]
    sign_off(round_, lead, confirmed=True)
    db.session.expire_all()
    (frozen,) = [i for i in db.session.get(type(round_), round_.id).snapshot["items"] if i["id"] == item.id]
    assert "target" not in frozen["details"] and [p["label"] for p in frozen["points"]] == ["Feb 2026"]


# --- Reading spreadsheet cells -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reader", "raw", "expected"),
    [
        (cells.whole_number, "10,000,000", 10_000_000),
        (cells.whole_number, "-0", 0),
        (cells.whole_number, 10_000_001, "Too large: at most 10,000,000"),
        (cells.whole_number, "9" * 5000, "Too large: at most 10,000,000"),
        (cells.whole_number, INF, "Not a whole number"),
        (cells.percent, "100", 100.0),
        (cells.percent, NAN, "Not a percentage"),
        (cells.percent, "9" * 400, "Percentage over 100"),
        (cells.number, "-1,000,000,000,000", -1e12),
        (cells.number, "9" * 400, "Out of range: must be between -1,000,000,000,000 and 1,000,000,000,000"),
        (cells.number, NAN, "Out of range"),
        (cells.number, cells.PercentValue(INF), "Out of range"),
        (cells.a_date, "31/12/9999", "9999-12-31 is outside the years 1990–2100"),
        (cells.a_date, "01/01/1990", date(1990, 1, 1)),
        (lambda raw: cells.period(raw).start, "0000 Q1", "0000 is outside the years 1990–2100"),
        (lambda raw: cells.period(raw).start, "2100/01", "2101-03-31 is outside the years 1990–2100"),
        (lambda raw: cells.period(raw).start, 1989, "1989 is outside the years 1990–2100"),
        (lambda raw: cells.period(raw).start, "2099/00", date(2099, 4, 1)),
        (lambda raw: cells.period(raw).start, "Dec 2100", date(2100, 12, 1)),
    ],
)
def test_cells_are_read_within_the_same_bounds(reader, raw, expected):
    if isinstance(expected, str):
        with pytest.raises(
            cells.CellOutOfRange if "outside" in expected or "Too" in expected else cells.CellError,
            match=re.escape(expected),
        ):
            reader(raw)
    else:
        assert reader(raw) == expected


@pytest.mark.parametrize(
    ("unit", "value", "problem"),
    [
        ("%", 139, "139 is not a percentage between 0 and 100"),
        ("per cent", -1, "-1 is not a percentage between 0 and 100"),
        ("% of staff", 100.5, "100.5 is not a percentage between 0 and 100"),
        ("% of target", 139, None),  # a percentage of something that can be exceeded
        ("% of target", -3, "-3 is below 0, which a metric in “% of target” cannot be"),
        ("% change", -12, None),
        ("people", -3, "-3 is below 0, which a metric in “people” cannot be"),
        ("number of referrals", -1, "-1 is below 0"),
        ("days", -0.5, "-0.5 is below 0"),
        ("per 100,000", -2, "-2 is below 0"),
        ("change in people", -3, None),
        ("net admissions", -40, None),
        ("£", -5_000, None),
        ("", -5, None),
        ("people", 12_500, None),
    ],
)
def test_a_metrics_values_are_checked_against_its_unit(unit, value, problem):
    found = bounds.point_problem(value, unit)
    if problem is None:
        assert found is None
    else:
        assert problem in (found or "")
