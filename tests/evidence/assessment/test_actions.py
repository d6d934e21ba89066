"""Improvement actions: validation, overdue, rounds and the audit trail."""

from datetime import date, timedelta

import pytest

from evidence import audit
from evidence.assessment.actions import (
    ActionError,
    actions_for,
    create_action,
    open_by_statement,
    overdue_actions,
    overdue_by_statement,
    update_action,
)
from evidence.db import db
from evidence.models import Action, today
from evidence.vocab import ActionStatus, Role
from tests.factories import make_action, make_round, statement


@pytest.fixture
def lead(make_user):
    return make_user(Role.QUALITY_LEAD)


def test_create_action_is_recorded(app, lead):
    round_ = make_round()
    due = today() + timedelta(days=30)
    action = create_action(
        statement("safeguarding"),
        {"description": " Audit S42 timeliness ", "owner": "Head of Safeguarding", "due_date": due},
        lead,
        round_,
    )
    assert action.description == "Audit S42 timeliness" and action.round_id == round_.id
    assert action.status == ActionStatus.OPEN
    [event] = audit.history("action", action.id)
    assert event.action == "create" and event.user_id == lead.id
    assert event.after["due_date"] == due.isoformat()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"description": "", "owner": "Ops"}, "description"),
        ({"description": "Do it", "owner": "  "}, "owner"),
        ({"description": "Do it", "owner": "Ops", "status": "abandoned"}, "status"),
        ({"description": "Do it", "owner": "Ops", "due_date": "tomorrow"}, "due_date"),
        ({"description": "x" * 2001, "owner": "Ops"}, "description"),
    ],
)
def test_bad_actions_are_refused_and_nothing_is_saved(app, lead, data, field):
    with pytest.raises(ActionError) as error:
        create_action(statement("equity"), data, lead)
    assert field in error.value.errors
    assert db.session.query(Action).count() == 0


def test_updating_records_before_and_after(app, lead):
    action = create_action(statement("equity"), {"description": "Do it", "owner": "Ops"}, lead)
    changed = update_action(action, {"description": "Do it", "owner": "Ops", "status": ActionStatus.IN_PROGRESS}, lead)
    assert changed
    event = audit.history("action", action.id)[0]
    assert event.action == "update"
    assert event.before == {"status": "open"} and event.after == {"status": "in_progress"}
    assert "Open to In progress" in event.summary
    assert not update_action(action, {"description": "Do it", "owner": "Ops", "status": "in_progress"}, lead)
    assert len(audit.history("action", action.id)) == 2


def test_overdue_means_past_due_and_not_done(app):
    round_ = make_round()
    late = make_action("equity", "Late", due_date=today() - timedelta(days=1), round_id=round_.id)
    make_action("equity", "Due today", due_date=today(), round_id=round_.id)
    make_action("equity", "Late but done", due_date=today() - timedelta(days=5), status=ActionStatus.DONE)
    make_action("learning", "No date", due_date=None)
    other_round = make_round("Other")
    make_action("learning", "Late, other round", due_date=date(2020, 1, 1), round_id=other_round.id)
    assert late.is_overdue()
    assert [a.description for a in overdue_actions(round_)] == ["Late"]
    assert overdue_by_statement(round_) == {"equity": 1}
    assert open_by_statement(round_) == {"equity": 2, "learning": 1}


def test_actions_for_a_statement_list_unfinished_first(app):
    round_ = make_round()
    make_action("equity", "Done", status=ActionStatus.DONE, round_id=round_.id)
    make_action("equity", "Soon", due_date=today() + timedelta(days=1), round_id=round_.id)
    make_action("equity", "Later", due_date=today() + timedelta(days=90))
    make_action("learning", "Elsewhere")
    assert [a.description for a in actions_for(statement("equity"), round_)] == ["Soon", "Later", "Done"]
