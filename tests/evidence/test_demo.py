"""The demo portfolio: complete, consistent, free of personal data, and safe to load twice."""

import copy
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from evidence import demo
from evidence.assessment.summary import live_summary
from evidence.db import db
from evidence.demo import DEMO_ACCOUNTS, KEY_PREFIX, DemoDataError, load_demo
from evidence.library.citations import cited_ids
from evidence.library.personal_data import scan_item
from evidence.models import (
    Action,
    AuditEvent,
    EvidenceCategory,
    EvidenceItem,
    Mapping,
    QualityStatement,
    Round,
    User,
    utcnow,
)
from evidence.settings import AUTHORITY_NAME, get_setting
from evidence.vocab import ActionStatus, Kind, Role, RoundStatus, Status

# The day the demo's review dates and due dates were written against.
DEMO_DAY = date(2026, 11, 23)

# Per kind, the fields that make an item of that kind worth having.
KIND_DETAILS = {
    Kind.SURVEY: ("survey_name", "question", "respondents", "result_percent", "population"),
    Kind.METRIC: ("unit", "direction", "target"),
    Kind.QUOTE: ("quote_text", "speaker_role", "voice", "quote_tone"),
    Kind.DOCUMENT: ("link_url", "evidences"),
    Kind.PARTNER_FEEDBACK: ("partner_organisation", "feedback_method"),
    Kind.CASE_AUDIT: ("cases_reviewed", "audit_outcome"),
    Kind.OBSERVATION: ("setting", "observer_role"),
}


@pytest.fixture
def counts(app):
    return load_demo()


def items() -> list[EvidenceItem]:
    return db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)).all()


def accepted() -> list[EvidenceItem]:
    return [i for i in items() if i.status == Status.ACCEPTED]


def row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def demo_round() -> Round:
    return db.session.scalar(select(Round).where(Round.name == "Winter 2026 self-assessment"))


def test_loading_twice_changes_nothing(app):
    first = load_demo()
    rows = row_counts()
    keys = {i.natural_key: i.id for i in items()}

    assert load_demo() == first
    assert row_counts() == rows
    assert {i.natural_key: i.id for i in items()} == keys


def test_counts_describe_the_portfolio(counts):
    assert list(counts) == [
        "evidence items",
        "mappings",
        "metric points",
        "rounds",
        "assessments",
        "actions",
        "users",
    ]
    assert counts["evidence items"] == len(items()) >= 40
    assert counts["mappings"] == db.session.scalar(select(func.count(Mapping.id)))
    assert counts["rounds"] == 1
    assert counts["assessments"] == 9
    assert counts["actions"] >= 3
    assert counts["users"] == len(DEMO_ACCOUNTS)
    assert all(i.natural_key.startswith(KEY_PREFIX) for i in items())


def test_loading_keeps_work_done_in_the_demo(counts):
    item = db.session.scalar(select(EvidenceItem).where(EvidenceItem.natural_key == "demo:survey-feel-safe"))
    item.title = "Edited while trying the demo"
    db.session.commit()

    assert load_demo() == counts
    assert db.session.get(EvidenceItem, item.id).title == "Edited while trying the demo"


def test_one_account_per_role_that_can_sign_in(counts):
    assert {a.role for a in DEMO_ACCOUNTS} == set(Role)
    for account in DEMO_ACCOUNTS:
        user = db.session.scalar(select(User).where(User.email == account.email))
        assert user.role == account.role
        assert len(account.password) >= 10
        assert user.check_password(account.password)


def test_the_council_is_named(counts):
    assert get_setting(AUTHORITY_NAME) == "Northbrook County Council"


def test_every_kind_is_present_with_its_own_fields(counts):
    by_kind = {kind: [i for i in accepted() if i.kind == kind] for kind in Kind}
    for kind, fields in KIND_DETAILS.items():
        assert by_kind[kind], f"no accepted {kind}"
        for item in by_kind[kind]:
            missing = [name for name in fields if getattr(item, name) in (None, "")]
            assert not missing, f"{item.natural_key} lacks {missing}"


def test_every_item_has_its_period_review_date_and_owner(counts):
    for item in items():
        assert item.title and item.summary and item.source
        assert item.period_start <= item.period_end and item.period_start < DEMO_DAY
        if item.kind != Kind.DOCUMENT:  # a policy may run on past today; findings cover the past
            assert item.period_end < DEMO_DAY, item.natural_key
        assert item.review_by and item.owner and item.submitted_by


def test_statuses_show_the_review_workflow(counts):
    staff = {u.id for u in db.session.scalars(select(User).where(User.role == Role.STAFF))}
    submitted = [i for i in items() if i.status == Status.SUBMITTED]
    returned = [i for i in items() if i.status == Status.RETURNED]
    assert len(submitted) == 3
    assert all(i.submitted_by_id in staff and i.reviewed_by is None for i in submitted)
    assert len(returned) == 1 and returned[0].return_reason
    assert len(accepted()) == len(items()) - 4
    assert all(i.reviewed_by.role == Role.QUALITY_LEAD for i in accepted())


def test_a_few_accepted_items_are_stale(counts):
    stale = [i for i in accepted() if i.is_stale(DEMO_DAY)]
    assert 3 <= len(stale) <= 4


def test_metrics_have_a_series_to_draw(counts):
    metrics = [i for i in items() if i.kind == Kind.METRIC]
    assert len(metrics) >= 4
    for metric in metrics:
        assert len(metric.points) >= 6, metric.natural_key
        assert all(p.period.day == 1 and p.label for p in metric.points)
        assert len({p.label for p in metric.points}) == len(metric.points)


def test_mappings_cover_the_framework_but_leave_gaps(counts):
    summary = live_summary(on=DEMO_DAY)
    statements = db.session.scalars(select(QualityStatement.key)).all()
    categories = db.session.scalars(select(EvidenceCategory.key)).all()
    filled = {cell for cell, totals in summary.items() if totals.total}
    assert {s for s, _ in filled} == set(statements)
    assert {c for _, c in filled} == set(categories)
    empty = {(s, c) for s in statements for c in categories} - filled
    assert 1 <= len(empty) <= 4
    assert any(totals.total and not totals.fresh for totals in summary.values()), "no cell of only stale evidence"

    mapped = db.session.scalars(select(Mapping)).all()
    assert all(m.item.status == Status.ACCEPTED and m.note for m in mapped)
    assert any(len({m.statement_id for m in i.mappings}) >= 2 for i in accepted())


def test_every_statement_is_assessed_citing_accepted_evidence(counts):
    round_ = demo_round()
    assert round_.status == RoundStatus.OPEN
    accepted_ids = {i.id for i in accepted()}
    assert len(round_.assessments) == 9
    for assessment in round_.assessments:
        assert assessment.score in (2, 3, 4)
        texts = [getattr(assessment, f) for f in ("rationale", "key_findings", "strengths", "areas_for_improvement")]
        assert all(texts), assessment.statement.key
        assert "[[" not in " ".join(texts)
        cited = cited_ids(*texts)
        assert cited and set(cited) <= accepted_ids, assessment.statement.key
    assert {a.score for a in round_.assessments} >= {2, 3}


def test_actions_include_one_overdue(counts):
    actions = db.session.scalars(select(Action)).all()
    assert all(a.round_id == demo_round().id and a.owner and a.due_date for a in actions)
    assert len([a for a in actions if a.is_overdue(DEMO_DAY)]) == 1
    assert {a.status for a in actions} == set(ActionStatus)


def test_no_personal_data(counts):
    for item in items():
        assert scan_item(item) == [], item.natural_key
    for item in items():
        if item.kind == Kind.QUOTE:
            assert not re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z'-]+", item.speaker_role), item.speaker_role


def test_bad_data_is_refused_and_changes_nothing(app, monkeypatch):
    bad = copy.deepcopy(demo.read_portfolio())
    bad["items"][0]["summary"] = "Call me on 07700 900123"
    bad["items"][1]["mappings"].append(["no-such-statement", "partners", "strength", "note"])
    bad["round"]["statements"]["equity"]["rationale"] += " [[quote-caseload]]"
    monkeypatch.setattr(demo, "read_portfolio", lambda: bad)
    before = row_counts()

    with pytest.raises(DemoDataError) as refused:
        load_demo()

    problems = "\n".join(refused.value.problems)
    assert "UK phone number" in problems
    assert "unknown statement" in problems
    assert "[[quote-caseload]], which is not an accepted item" in problems
    assert row_counts() == before


def test_cli_demo_loads_and_prints_the_sign_ins(runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo portfolio ready: " in first.output
    for account in DEMO_ACCOUNTS:
        assert account.email in first.output and account.password in first.output

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0
    assert again.output == first.output

    skipped = runner.invoke(args=["demo", "--if-empty"])
    assert "already holds evidence" in skipped.output
    assert DEMO_ACCOUNTS[0].password in skipped.output


# --- A story in time, and text as people write it ----------------------------------------------------------


def events_of(item: EvidenceItem, action: str) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "evidence_item", AuditEvent.entity_id == item.id, AuditEvent.action == action
        )
    ).all()


def test_evidence_arrives_over_the_past_months_and_is_reviewed_days_later(counts):
    now = utcnow()
    sent = [item.created_at for item in items()]
    assert max(sent) <= now and min(sent) >= now - timedelta(days=240)
    assert max(sent) - min(sent) > timedelta(days=90), "submissions spread over months, not one day"
    assert len({day.date() for day in sent}) >= len(sent) // 2
    for item in items():
        [created] = events_of(item, "create")
        assert created.at == item.created_at, item.natural_key
        if item.status == Status.SUBMITTED:
            assert item.reviewed_at is None and item.updated_at == item.created_at
            continue
        assert item.created_at < item.reviewed_at <= now, item.natural_key
        assert item.reviewed_at - item.created_at <= timedelta(days=7)
        [decided] = events_of(item, "accept" if item.status == Status.ACCEPTED else "return")
        assert decided.at == item.reviewed_at and decided.user.email == demo.read_portfolio()["curator"]
        assert all(m.created_at == item.reviewed_at for m in item.mappings)


def test_the_review_queue_has_an_oldest_first(counts):
    waiting = db.session.scalars(select(EvidenceItem).where(EvidenceItem.status == Status.SUBMITTED)).all()
    days = sorted(item.created_at.date() for item in waiting)
    assert len(waiting) >= 2 and len(set(days)) == len(days)
    assert utcnow().date() - days[0] <= timedelta(days=21)


def test_the_round_was_worked_on_over_weeks(counts):
    round_ = demo_round()
    assert round_.created_at < min(a.updated_at for a in round_.assessments) <= utcnow()
    assert len({a.updated_at.date() for a in round_.assessments}) == len(round_.assessments)
    assert all(round_.created_at < action.created_at <= utcnow() for action in db.session.scalars(select(Action)))


# A line break inside a sentence: a word or comma, then a new line that carries on in lower case.
MID_SENTENCE = re.compile(r"[\w,;]\n\s*[a-z(\[]")


def test_text_is_not_hard_wrapped_mid_sentence(counts):
    for item in items():
        for name in ("summary", "quote_text", "evidences", "audit_outcome", "question", "return_reason"):
            assert not MID_SENTENCE.search(getattr(item, name) or ""), (item.natural_key, name)
    for assessment in demo_round().assessments:
        for name in ("rationale", "key_findings", "strengths", "areas_for_improvement"):
            text = getattr(assessment, name)
            assert not MID_SENTENCE.search(text), (assessment.statement.key, name, text)
            if name == "key_findings":  # lists stay lists, one item a line
                assert all(line.startswith("- ") for line in text.splitlines() if line.strip())


def test_unwrap_joins_lines_but_keeps_paragraphs_and_lists():
    text = "First line of a\nsentence.\n\nA paragraph.\n- an item that\n  wraps [[key]]\n- another"
    assert demo.unwrap(text) == "First line of a sentence.\n\nA paragraph.\n- an item that wraps [[key]]\n- another"


def test_cli_demo_reset_asks_then_starts_the_demo_afresh(runner, make_user):
    runner.invoke(args=["demo"])
    stranger = make_user(Role.STAFF, email="someone@example.gov.uk")
    make_extra = db.session.scalar(select(EvidenceItem).order_by(EvidenceItem.id))
    make_extra.title = "Changed while trying the demo"
    db.session.commit()
    first_count = row_counts()["evidence_item"]

    declined = runner.invoke(args=["demo", "--reset"], input="n\n")
    assert declined.exit_code != 0 and "This deletes every account" in declined.output
    assert db.session.get(User, stranger.id) is not None

    done = runner.invoke(args=["demo", "--reset"], input="y\n")
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "someone@example.gov.uk")) is None
    assert db.session.scalar(select(func.count()).where(EvidenceItem.title == "Changed while trying the demo")) == 0
    assert row_counts()["evidence_item"] == first_count
    assert "Demo sign-ins:" in done.output

    assert runner.invoke(args=["demo", "--reset", "--yes"]).exit_code == 0
