"""A sign-off racing saves into its round: the snapshot is the live rows at one moment, and nothing
lands in a round after it is frozen.

In each trial one thread signs a fresh round off while the others, released at the same moment,
write a new assessment, edit another, add an action, edit one, map evidence and add a metric value.
A write into the round either committed before the sign-off (and is in the snapshot) or was refused
with RoundFrozenError; a write to the portfolio is in the snapshot exactly when it committed first.
Which came first is read from the audit trail: the number and time of each write's event against the
sign-off's. Then, without chance: a save that had to wait for a sign-off is refused, and a mapping
that waited is kept but stays out of the snapshot. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

import evidence.assessment.rounds as rounds_module
from evidence.assessment.actions import create_action, update_action
from evidence.assessment.assessments import save_assessment, statement_by_key
from evidence.assessment.round_view import live_view, round_view
from evidence.assessment.rounds import RoundFrozenError, create_round, round_overview, rounds_with_results, sign_off
from evidence.db import db
from evidence.library.mappings import add_mapping
from evidence.library.metrics import add_point
from evidence.models import Action, AuditEvent, EvidenceCategory, EvidenceItem, Mapping, Round, User
from evidence.vocab import Kind, Role
from tests.factories import category, make_item, make_round
from tests.threads import run_together

TRIALS = 50
NEW, EDITED = "assessing-needs", "equity"  # one written afresh in each round, one edited


def _events(since: int, entity_type: str, *actions: str, entity_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(
        AuditEvent.id > since, AuditEvent.entity_type == entity_type, AuditEvent.action.in_(actions)
    )
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    return db.session.scalars(query.order_by(AuditEvent.id)).all()


def _written_first(event: AuditEvent, round_: Round, signed: AuditEvent) -> bool:
    """Whether a write came before the sign-off. Serialised, a write commits before the sign-off takes
    its lock (when it sets signed_off_at) or starts after the sign-off committed (its audit event), so
    the time and the number of the write's own audit event tell the same story."""
    first = event.id < signed.id
    assert (event.at < round_.signed_off_at) == first, "a write overlapped the sign-off"
    return first


def test_a_sign_off_and_saves_at_the_same_moment_agree_and_nothing_lands_after_it(app, make_user):
    lead_id = make_user(Role.QUALITY_LEAD, name="Lee Lead").id
    manager_id = make_user(Role.MANAGER, name="Maya Manager").id
    metric_id = make_item("Reviews on time", kind=Kind.METRIC, direction="higher", unit="%").id
    mapped_ids = [make_item(f"Evidence {t}").id for t in range(TRIALS)]
    category_id = category("partners").id
    outcomes: Counter = Counter()

    for trial in range(TRIALS):
        lead = db.session.get(User, lead_id)
        setup = create_round(f"Trial {trial}", lead)
        save_assessment(setup, statement_by_key(EDITED), {"score": 2, "rationale": "As it was"}, 0, lead)
        as_it_was = {"description": "As it was", "owner": "Team"}
        action_id = create_action(statement_by_key(EDITED), as_it_was, lead, setup).id
        round_id = setup.id
        period = date(2000 + trial // 12, trial % 12 + 1, 1)
        period_text = period.strftime("%Y-%m")

        def load(round_id=round_id):
            return db.session.get(Round, round_id), db.session.get(User, lead_id)

        def signs_off(round_id=round_id):
            round_, manager = db.session.get(Round, round_id), db.session.get(User, manager_id)
            return lambda: sign_off(round_, manager, confirmed=True)

        def writes_new(trial=trial):
            (round_, lead), statement = load(), statement_by_key(NEW)
            return lambda: save_assessment(round_, statement, {"score": 3, "rationale": f"New {trial}"}, 0, lead)

        def edits(trial=trial):
            (round_, lead), statement = load(), statement_by_key(EDITED)
            return lambda: save_assessment(round_, statement, {"score": 4, "rationale": f"Edited {trial}"}, 1, lead)

        def adds_action(trial=trial):
            (round_, lead), statement = load(), statement_by_key(NEW)
            data = {"description": f"Added {trial}", "owner": "Team"}
            return lambda: create_action(statement, data, lead, round_)

        def edits_action(trial=trial, action_id=action_id):
            (_, lead), action = load(), db.session.get(Action, action_id)
            return lambda: update_action(action, {"description": f"Edited {trial}", "owner": "Team"}, lead)

        def maps(trial=trial):
            (_, lead), item = load(), db.session.get(EvidenceItem, mapped_ids[trial])
            statement, category_ = statement_by_key(NEW), db.session.get(EvidenceCategory, category_id)
            return lambda: add_mapping(item, statement, category_, "strength", user=lead)

        def adds_point(trial=trial, period_text=period_text):
            (_, lead), metric = load(), db.session.get(EvidenceItem, metric_id)
            return lambda: add_point(metric, period_text, float(trial), lead)

        since = db.session.scalar(select(func.max(AuditEvent.id)))
        results = run_together(app, [signs_off, writes_new, edits, adds_action, edits_action, maps, adds_point])
        unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, RoundFrozenError)]
        assert unexpected == [], f"trial {trial}: {unexpected!r}"
        assert not isinstance(results[0], BaseException), f"trial {trial}: the sign-off failed"
        refused = [isinstance(r, RoundFrozenError) for r in results[1:5]]
        assert not any(isinstance(r, BaseException) for r in results[5:]), "portfolio writes are never refused"
        outcomes.update("refused" if r else "saved" for r in refused)

        db.session.expire_all()
        round_ = db.session.get(Round, round_id)
        assert round_.signed_off
        frozen, live = round_view(round_), live_view(round_)
        (signed,) = _events(since, "round", "sign_off")

        # The round's own rows: the snapshot is what is stored, and every save that was not refused
        # was written before the sign-off.
        assert frozen.assessments == live.assessments
        assert frozen.actions == live.actions
        new_refused, edit_refused, add_refused, edit_action_refused = refused
        assert (NEW in frozen.assessments) == (not new_refused)
        assert frozen.assessments[EDITED].rationale == ("As it was" if edit_refused else f"Edited {trial}")
        descriptions = sorted(a.description for a in frozen.actions)
        assert descriptions == sorted(
            ["As it was" if edit_action_refused else f"Edited {trial}"] + ([] if add_refused else [f"Added {trial}"])
        )
        saves = _events(since, "assessment", "create", "update") + _events(since, "action", "create", "update")
        assert len(saves) == refused.count(False)
        assert all(_written_first(event, round_, signed) for event in saves), f"trial {trial}: a save landed late"

        # The portfolio's rows: in the snapshot exactly when written before the sign-off.
        mapping_id = db.session.scalar(select(Mapping.id).where(Mapping.item_id == mapped_ids[trial]))
        (mapped,) = _events(since, "mapping", "create", entity_id=mapping_id)
        (pointed,) = _events(since, "evidence_item", "add_point", entity_id=metric_id)
        mapped_first, point_first = _written_first(mapped, round_, signed), _written_first(pointed, round_, signed)
        assert (mapped_ids[trial] in frozen.mapped_item_ids(NEW)) == mapped_first
        assert (period in [p.period for p in frozen.items[metric_id].points]) == point_first
        expected_mappings = [m for m in live.mappings if mapped_first or m.item_id != mapped_ids[trial]]
        assert frozen.mappings == expected_mappings
        metric = live.items[metric_id]
        metric.points = [p for p in metric.points if point_first or p.period != period]
        assert frozen.items == live.items

        # The rounds list and the round's own page (read from the snapshot) give the same roll-up.
        listed = dict(rounds_with_results())[round_]
        assert listed == round_overview(round_).overall == frozen.rollup().overall

    # Both ways round happened, so the race was run rather than avoided.
    assert outcomes["saved"] and outcomes["refused"], outcomes


def _slow_sign_off(monkeypatch, started: threading.Event):
    """Sign-offs that take their time over the snapshot, having said that they have begun it."""
    real = rounds_module.live_view

    def slow(round_):
        started.set()
        time.sleep(HELD)
        return real(round_)

    monkeypatch.setattr(rounds_module, "live_view", slow)


HELD = 0.5  # seconds a sign-off spends on its snapshot in the tests below


@pytest.mark.parametrize("write", ["assessment", "action"])
def test_a_save_that_waited_for_a_sign_off_is_refused_as_frozen(app, make_user, monkeypatch, write):
    lead_id, manager_id = make_user(Role.QUALITY_LEAD).id, make_user(Role.MANAGER).id
    round_id = make_round("Winter").id
    started = threading.Event()
    _slow_sign_off(monkeypatch, started)

    def signs_off():
        round_, manager = db.session.get(Round, round_id), db.session.get(User, manager_id)
        return lambda: sign_off(round_, manager, confirmed=True)

    def saves():
        def act():
            started.wait(5)
            round_, lead = db.session.get(Round, round_id), db.session.get(User, lead_id)
            assert not round_.signed_off  # as read now: the sign-off has not committed yet
            began = time.monotonic()
            try:
                if write == "assessment":
                    save_assessment(round_, statement_by_key(NEW), {"score": 2}, 0, lead)
                else:
                    create_action(statement_by_key(NEW), {"description": "Late", "owner": "Team"}, lead, round_)
            except RoundFrozenError as error:
                return error, time.monotonic() - began
            return None, time.monotonic() - began

        return lambda: act()

    signed, (refusal, waited) = run_together(app, [signs_off, saves])
    assert not isinstance(signed, BaseException), signed
    assert isinstance(refusal, RoundFrozenError) and "“Winter” was signed off on" in str(refusal)
    assert waited > HELD / 2  # it waited for the sign-off rather than slipping in beside it
    db.session.expire_all()
    frozen = round_view(db.session.get(Round, round_id))
    assert frozen.assessments == {} and frozen.actions == []
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.entity_type != "round")) == 0


def test_a_mapping_that_waited_for_a_sign_off_is_kept_but_not_in_the_snapshot(app, make_user, monkeypatch):
    lead_id, manager_id = make_user(Role.QUALITY_LEAD).id, make_user(Role.MANAGER).id
    item_id = make_item("Carers survey").id
    round_id = make_round("Winter").id
    started = threading.Event()
    _slow_sign_off(monkeypatch, started)

    def signs_off():
        round_, manager = db.session.get(Round, round_id), db.session.get(User, manager_id)
        return lambda: sign_off(round_, manager, confirmed=True)

    def maps():
        def act():
            started.wait(5)
            item, lead = db.session.get(EvidenceItem, item_id), db.session.get(User, lead_id)
            s, c = statement_by_key(NEW), category("partners")
            began = time.monotonic()
            add_mapping(item, s, c, "strength", user=lead)
            return time.monotonic() - began

        return lambda: act()

    signed, waited = run_together(app, [signs_off, maps])
    assert not isinstance(signed, BaseException), signed
    assert not isinstance(waited, BaseException), waited
    assert waited > HELD / 2
    db.session.expire_all()
    assert round_view(db.session.get(Round, round_id)).mappings == []
    assert db.session.scalar(select(func.count(Mapping.id))) == 1
