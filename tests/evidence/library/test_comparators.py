"""A metric's comparator series: several named series, each a value per period, added as metric points are."""

from __future__ import annotations

import math
from datetime import date

import pytest
from sqlalchemy import func, select

from evidence.db import db
from evidence.library import metrics
from evidence.library.metrics import MetricError, add_comparator_point, comparator_readings
from evidence.models import AuditEvent, ComparatorPoint, ComparatorSeries, EvidenceItem
from evidence.vocab import Kind, Role
from tests.factories import make_item


@pytest.fixture
def lead(make_user):
    return make_user(Role.QUALITY_LEAD)


def reablement(**fields) -> EvidenceItem:
    fields.setdefault("unit", "%")
    return make_item(
        "Older people at home 91 days after reablement",
        kind=Kind.METRIC,
        direction="higher",
        points=[(date(2024, 4, 1), "2024 Q2", 71.5), (date(2024, 7, 1), "2024 Q3", 72.0)],
        **fields,
    )


def series_of(item: EvidenceItem) -> list[tuple[str, list[tuple[str, float]]]]:
    db.session.expire_all()
    item = db.session.get(EvidenceItem, item.id)
    return [(s.name, [(p.label, p.value) for p in s.points]) for s in item.comparators]


def events(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def test_a_metric_holds_several_named_series_each_by_period(app, lead):
    item = reablement()
    add_comparator_point(item, "England average", "2024 Q3", 68.0, lead)
    add_comparator_point(item, "Regional average", "2024 Q3", 70.2, lead)
    add_comparator_point(item, "England average", "2024 Q2", 67.5, lead)
    add_comparator_point(item, "england  AVERAGE", "Oct 2024", 68.4, lead)  # the same comparator, however written
    assert series_of(item) == [
        ("England average", [("2024 Q2", 67.5), ("2024 Q3", 68.0), ("Oct 2024", 68.4)]),
        ("Regional average", [("2024 Q3", 70.2)]),
    ]
    assert events("add_comparator") == 4
    # read against the metric's latest value (2024 Q3): each comparator for the same period
    readings = comparator_readings(db.session.get(EvidenceItem, item.id))
    assert [(r.name, r.value, r.label, r.same_period) for r in readings] == [
        ("England average", 68.0, "2024 Q3", True),
        ("Regional average", 70.2, "2024 Q3", True),
    ]


def test_the_same_value_again_changes_nothing_and_a_different_one_needs_replace(app, lead):
    item = reablement()
    first = add_comparator_point(item, "Median", "2024 Q3", 69.0, lead)
    again = add_comparator_point(item, "Median", "2024 Q3", 69.0, lead)
    assert again.id == first.id
    assert db.session.scalar(select(func.count(ComparatorPoint.id))) == 1
    assert db.session.scalar(select(func.count(ComparatorSeries.id))) == 1
    assert events("add_comparator") == 1 and events("update_comparator") == 0

    with pytest.raises(MetricError, match=r"Median already has a value for 2024 Q3 \(69\); tick “Replace”"):
        add_comparator_point(item, "Median", "2024 Q3", 69.5, lead)
    assert series_of(item) == [("Median", [("2024 Q3", 69.0)])]

    add_comparator_point(item, "Median", "2024 Q3", 69.5, lead, replace=True)
    assert series_of(item) == [("Median", [("2024 Q3", 69.5)])]
    assert events("update_comparator") == 1


@pytest.mark.parametrize(
    ("unit", "name", "period", "value", "field", "message"),
    [
        ("%", "England average", "2024 Q3", 100.5, "value", "100.5 is not a percentage between 0 and 100"),
        ("%", "England average", "2024 Q3", -0.1, "value", "-0.1 is not a percentage between 0 and 100"),
        ("", "England average", "2024 Q3", math.inf, "value", "inf is not a number"),
        ("", "England average", "2024 Q3", math.nan, "value", "nan is not a number"),
        ("", "England average", "2024 Q3", 1e13, "value", "10,000,000,000,000 is not between"),
        ("", "England average", "2024 Q3", None, "value", "enter a value"),
        ("", "England average", "9999 Q1", 1.0, "period", "9999 is outside the years 1990–2100"),
        ("", "England average", "soon", 1.0, "period", "is not a period the portal understands"),
        ("", "   ", "2024 Q3", 1.0, "name", "name the comparator"),
        ("", "x" * 101, "2024 Q3", 1.0, "name", "at most 100 characters"),
    ],
)
def test_a_comparator_value_past_its_bounds_is_refused_by_field(app, lead, unit, name, period, value, field, message):
    item = reablement(unit=unit)
    with pytest.raises(MetricError, match=message) as caught:
        add_comparator_point(item, name, period, value, lead)
    assert caught.value.field == field
    assert db.session.scalar(select(func.count(ComparatorSeries.id))) == 0
    assert db.session.scalar(select(func.count(ComparatorPoint.id))) == 0


def test_only_a_metric_has_comparators(app, lead):
    survey = make_item("Carers feel listened to")
    with pytest.raises(MetricError, match="is not a metric"):
        add_comparator_point(survey, "England average", "2024 Q3", 60.0, lead)


def test_a_comparator_without_a_value_for_the_latest_period_says_which_period_it_is(app, lead):
    item = reablement()
    add_comparator_point(item, "Nearest neighbours", "2024 Q2", 70.0, lead)
    (reading,) = comparator_readings(db.session.get(EvidenceItem, item.id))
    assert (reading.value, reading.label, reading.same_period) == (70.0, "2024 Q2", False)


def test_the_metric_and_its_comparators_side_by_side(app, lead):
    item = reablement()
    add_comparator_point(item, "England average", "2024 Q3", 68.0, lead)
    add_comparator_point(item, "Region", "Jan 2024", 69.0, lead)  # a period the metric has no value for
    item = db.session.get(EvidenceItem, item.id)
    names, rows = metrics.side_by_side(item.points, item.comparators)
    assert names == ["England average", "Region"]
    assert [(r.label, r.value, r.comparators) for r in rows] == [
        ("Jan 2024", None, [None, 69.0]),
        ("2024 Q2", 71.5, [None, None]),
        ("2024 Q3", 72.0, [68.0, None]),
    ]
