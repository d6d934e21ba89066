"""An evidence item's life: submitted, accepted or returned, resubmitted, edited; every step audited."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from evidence.audit import history
from evidence.db import db
from evidence.library import items, metrics
from evidence.library.items import ItemError, PersonalDataFound, VersionConflict
from evidence.models import AuditEvent, EvidenceItem, MetricPoint, today
from evidence.vocab import Kind, Role, Status
from tests.factories import make_item

SURVEY = {
    "title": "Carers feel listened to",
    "source": "Survey of Adult Carers 2025-26",
    "summary": "Most carers said they were listened to.",
    "period_start": date(2025, 10, 1),
    "period_end": date(2025, 11, 30),
    "survey_name": "SACE",
    "respondents": 412,
    "result_percent": 61.0,
}


@pytest.fixture
def staff(make_user):
    return make_user(Role.STAFF)


@pytest.fixture
def lead(make_user):
    return make_user(Role.QUALITY_LEAD)


def actions(item):
    return [e.action for e in reversed(history("evidence_item", item.id))]


def test_a_submission_is_owned_waiting_and_due_for_review_by_its_kind(app, staff):
    item = items.create_item(Kind.SURVEY, SURVEY, user=staff)
    assert item.status == Status.SUBMITTED
    assert item.owner_id == staff.id and item.submitted_by_id == staff.id
    assert item.review_by == date(2026, 11, 30)  # 12 months after the fieldwork ended
    (event,) = history("evidence_item", item.id)
    assert event.action == "create" and event.user_id == staff.id
    assert event.after["result_percent"] == 61.0 and event.after["status"] == "submitted"


def test_review_by_defaults_to_the_kinds_months_from_today_without_a_period(app, staff):
    item = items.create_item(Kind.METRIC, {"title": "Waiting list", "source": "LAS", "direction": "lower"}, user=staff)
    assert item.review_by == items.add_months(today(), 6)
    assert items.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"result_percent": 101.0}, "Result (%): must be between 0 and 100"),
        ({"result_percent": -1.0}, "Result (%): must be between 0 and 100"),
        ({"respondents": -3}, "Respondents (n): must be a whole number, 0 or more"),
        ({"period_end": date(2025, 9, 1)}, "Period end: must be on or after the period start"),
        ({"title": "  "}, "Title: this is required"),
        ({"survey_name": None}, "Survey name: this is required"),
        ({"voice": "person"}, "voice do not belong to a survey finding"),
    ],
)
def test_bad_values_are_refused_by_name_and_nothing_is_saved(app, staff, change, message):
    with pytest.raises(ItemError, match=re.escape(message)):
        items.create_item(Kind.SURVEY, {**SURVEY, **change}, user=staff)
    assert db.session.scalar(select(func.count(EvidenceItem.id))) == 0


def test_each_kind_needs_its_own_fields(app, staff):
    base = {"title": "T", "source": "S"}
    with pytest.raises(ItemError, match="Whose voice: this is required"):
        items.create_item(Kind.QUOTE, {**base, "quote_text": "It helped", "speaker_role": "Carer 2"}, user=staff)
    quote = items.create_item(
        Kind.QUOTE, {**base, "quote_text": "It helped", "speaker_role": "Carer 2", "voice": "carer"}, user=staff
    )
    assert quote.quote_tone == "neutral"
    with pytest.raises(ItemError, match="Cases reviewed: this is required"):
        items.create_item(Kind.CASE_AUDIT, {**base, "audit_outcome": "Good"}, user=staff)
    with pytest.raises(ItemError, match="Link: must start with http"):
        items.create_item(Kind.DOCUMENT, {**base, "evidences": "x", "link_url": "javascript:alert(1)"}, user=staff)


def test_a_metric_keeps_its_points_and_refuses_bad_ones(app, staff):
    fields = {"title": "Assessments on time", "source": "LAS", "unit": "%", "direction": "higher", "target": 80.0}
    item = items.create_item(Kind.METRIC, fields, user=staff, points=[("2026-04", 70), ("2026-05", 72)])
    assert [(p.period, p.label, p.value) for p in item.points] == [
        (date(2026, 4, 1), "Apr 2026", 70.0),
        (date(2026, 5, 1), "May 2026", 72.0),
    ]
    with pytest.raises(ItemError, match="Point 2: May 2026 is already given"):
        items.create_item(Kind.METRIC, fields, user=staff, points=[("2026-05", 1), ("May 2026", 2)])
    with pytest.raises(ItemError, match=r"Point 1: .*not a period"):
        items.create_item(Kind.METRIC, fields, user=staff, points=[("last spring", 1)])
    with pytest.raises(ItemError, match="Point 2: 104 for Feb 2026 is not a percentage between 0 and 100"):
        items.create_item(Kind.METRIC, fields, user=staff, points=[("2026-01", 99), ("2026-02", 104)])
    assert db.session.scalar(select(func.count(EvidenceItem.id))) == 1


def test_accepting_records_who_and_the_change(app, staff, lead):
    item = items.create_item(Kind.SURVEY, SURVEY, user=staff)
    items.accept_item(item, user=lead, changes={"title": "Carers feel listened to (61%)"})
    assert item.status == Status.ACCEPTED and item.reviewed_by_id == lead.id and item.reviewed_at
    assert item.title == "Carers feel listened to (61%)"
    event = history("evidence_item", item.id)[0]
    assert event.action == "accept" and event.user_id == lead.id
    assert event.before == {"status": "submitted", "title": "Carers feel listened to"}
    assert event.after == {"status": "accepted", "title": "Carers feel listened to (61%)"}
    with pytest.raises(ItemError, match="already accepted"):
        items.accept_item(item, user=lead)


def test_personal_data_stops_acceptance_until_confirmed_and_the_confirmation_is_recorded(app, staff, lead):
    item = items.create_item(Kind.SURVEY, {**SURVEY, "summary": "Call Mrs Jones on 020 7946 0958."}, user=staff)
    with pytest.raises(PersonalDataFound) as caught:
        items.accept_item(item, user=lead)
    assert [(f.field, f.kind) for f in caught.value.findings] == [("Summary", "titled_name"), ("Summary", "phone")]
    db.session.refresh(item)
    assert item.status == Status.SUBMITTED and not item.personal_data
    assert actions(item) == ["create"]

    items.accept_item(item, user=lead, confirm_personal_data=True)
    assert item.status == Status.ACCEPTED and item.personal_data is True
    events = {e.action: e for e in history("evidence_item", item.id)}
    assert events["personal_data"].user_id == lead.id
    assert "Summary: UK phone number “020 7946 0958”" in events["personal_data"].summary
    assert events["personal_data"].after["personal_data"] is True


def test_the_check_reads_the_reviewers_edits(app, staff, lead):
    item = items.create_item(Kind.SURVEY, {**SURVEY, "summary": "Email jo@example.org"}, user=staff)
    items.accept_item(item, user=lead, changes={"summary": "Email the carers team."})
    assert item.status == Status.ACCEPTED and item.personal_data is False
    with pytest.raises(PersonalDataFound):
        other = items.create_item(Kind.SURVEY, SURVEY, user=staff)
        items.accept_item(other, user=lead, changes={"summary": "See Dr Patel"})
    db.session.refresh(other)
    assert other.summary == SURVEY["summary"]


def test_return_needs_a_reason_and_the_submitter_can_resubmit(app, staff, lead, make_user):
    item = items.create_item(Kind.SURVEY, SURVEY, user=staff)
    with pytest.raises(ItemError, match="Reason"):
        items.return_item(item, user=lead, reason="   ")
    assert item.status == Status.SUBMITTED
    items.return_item(item, user=lead, reason="Give the number of respondents for this question only.")
    assert item.status == Status.RETURNED
    assert item.return_reason == "Give the number of respondents for this question only."

    with pytest.raises(ItemError, match="not yours"):
        items.resubmit(item, {"respondents": 390}, user=make_user(Role.STAFF))
    items.resubmit(item, {"respondents": 390}, user=staff)
    assert item.status == Status.SUBMITTED and item.return_reason is None and item.respondents == 390
    event = history("evidence_item", item.id)[0]
    assert event.action == "resubmit"
    assert event.before["status"] == "returned" and event.after["status"] == "submitted"
    assert event.before["respondents"] == 412 and event.after["respondents"] == 390
    with pytest.raises(ItemError, match="only a returned item"):
        items.resubmit(item, {}, user=staff)
    assert actions(item) == ["create", "return", "resubmit"]


def test_an_edit_based_on_an_old_version_is_refused(app, staff, lead):
    item = items.create_item(Kind.SURVEY, SURVEY, user=staff)
    seen = item.version
    items.update_item(item, {"title": "First edit"}, user=lead, expected_version=seen)
    with pytest.raises(VersionConflict, match="changed by someone else"):
        items.update_item(item, {"title": "Second edit"}, user=lead, expected_version=seen)
    db.session.refresh(item)
    assert item.title == "First edit"


def test_review_by_follows_the_period_unless_it_was_set_by_hand(app, staff, lead):
    item = items.create_item(Kind.SURVEY, SURVEY, user=staff)
    items.update_item(item, {"period_end": date(2025, 12, 31)}, user=lead)
    assert item.review_by == date(2026, 12, 31)
    items.update_item(item, {"review_by": date(2027, 3, 1)}, user=lead)
    items.update_item(item, {"period_end": date(2026, 1, 31)}, user=lead)
    assert item.review_by == date(2027, 3, 1)


def test_who_may_see_an_item(app, staff, lead, make_user):
    manager, other_staff = make_user(Role.MANAGER), make_user(Role.STAFF)
    item = items.create_item(Kind.SURVEY, SURVEY, user=staff)
    assert items.can_view(item, staff) and items.can_view(item, lead)
    assert not items.can_view(item, manager) and not items.can_view(item, other_staff)
    items.accept_item(item, user=lead)
    assert items.can_view(item, manager)
    assert not items.can_view(item, other_staff)
    assert not items.can_view(item, None)


@pytest.mark.parametrize(
    ("text", "start", "label"),
    [
        ("2026-09", date(2026, 9, 1), "Sep 2026"),
        ("2026-9", date(2026, 9, 1), "Sep 2026"),
        ("Sep 2026", date(2026, 9, 1), "Sep 2026"),
        ("september 2026", date(2026, 9, 1), "Sep 2026"),
        ("Sept 2026", date(2026, 9, 1), "Sep 2026"),
        ("2026 Q3", date(2026, 7, 1), "2026 Q3"),
        ("2026-Q4", date(2026, 10, 1), "2026 Q4"),
        ("q1 2027", date(2027, 1, 1), "2027 Q1"),
        ("Q1 2024/25", date(2024, 4, 1), "Q1 2024/25"),
        ("2024-25", date(2024, 4, 1), "2024/25"),
        ("Apr-24", date(2024, 4, 1), "Apr 2024"),
        ("30/09/2026", date(2026, 9, 1), "Sep 2026"),  # a day counts as its month
    ],
)
def test_periods_as_people_write_them(text, start, label):
    period = metrics.parse_period(text)
    assert (period.start, period.label) == (start, label)


@pytest.mark.parametrize("text", ["", "2026-13", "2026 Q5", "Smarch 2026", "next month", "26-09"])
def test_periods_that_do_not_parse_are_refused(text):
    with pytest.raises(metrics.MetricError):
        metrics.parse_period(text)


def test_points_added_over_time_refuse_a_duplicate_or_replace_it_on_request(app, lead):
    item = make_item("Reviews on time", kind=Kind.METRIC, unit="%", direction="higher")
    metrics.add_point(item, "2026 Q1", 70, lead)
    with pytest.raises(metrics.MetricError, match="2026 Q1 already has a value"):
        metrics.add_point(item, "2026-01", 75, lead)  # January is the first month of Q1: the same period
    with pytest.raises(metrics.MetricError, match="not a percentage"):
        metrics.add_point(item, "2026 Q2", 140, lead)
    metrics.add_point(item, "2026 Q1", 74, lead, replace=True)
    assert [(p.label, p.value) for p in db.session.scalars(select(MetricPoint))] == [("2026 Q1", 74.0)]
    event = history("evidence_item", item.id)[0]
    assert event.action == "update_point" and event.before == {"value": 70.0} and event.after == {"value": 74.0}
    with pytest.raises(metrics.MetricError, match="not a metric"):
        metrics.add_point(make_item("A survey"), "2026 Q1", 1, lead)


def test_audit_events_commit_with_the_change(app, staff):
    items.create_item(Kind.SURVEY, SURVEY, user=staff)
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 1


def test_stale_means_past_its_review_date(app):
    assert make_item("Old", review_by=today() - timedelta(days=1)).stale
    assert not make_item("New", review_by=today() + timedelta(days=1)).stale
