"""Improvement actions against quality statements: what, who, by when, and how far along."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from evidence import audit, bounds
from evidence.assessment.round_lock import RoundFrozenError, ensure_open, lock_open_rounds, lock_round
from evidence.db import db
from evidence.models import Action, QualityStatement, Round, User, today
from evidence.vocab import ActionStatus

__all__ = ["ActionError", "RoundFrozenError", "create_action", "update_action"]

FIELDS = ["description", "owner", "due_date", "status"]
DESCRIPTION_MAX = 2_000
OWNER_MAX = 200


class ActionError(ValueError):
    """Field → message for each problem; nothing was saved."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    errors = {}
    description = (data.get("description") or "").strip()
    owner = (data.get("owner") or "").strip()
    due_date = data.get("due_date")
    status = data.get("status") or ActionStatus.OPEN
    if not description:
        errors["description"] = "Say what will be done."
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = f"The description can be at most {DESCRIPTION_MAX:,} characters."
    if not owner:
        errors["owner"] = "Name who owns the action (a role or a team is fine)."
    elif len(owner) > OWNER_MAX:
        errors["owner"] = f"The owner can be at most {OWNER_MAX} characters."
    if due_date is not None and not isinstance(due_date, date):
        errors["due_date"] = "Give the due date as a date, for example 2026-12-31."
    elif due_date is not None:
        try:
            bounds.check_date(due_date)
        except bounds.OutOfRange as exc:
            errors["due_date"] = f"Due date: {exc}."
    if status not in set(ActionStatus):
        errors["status"] = f"Status must be one of: {', '.join(s.label for s in ActionStatus)}."
    if errors:
        raise ActionError(errors)
    return {"description": description, "owner": owner, "due_date": due_date, "status": str(status)}


def _round_of(action: Action) -> Round | None:
    return db.session.get(Round, action.round_id) if action.round_id else None


def _lock(round_: Round | None) -> None:
    """An action of a round is in that round's snapshot; one outside any round is in every open round's."""
    if round_ is None:
        lock_open_rounds()
    else:
        lock_round(round_)


def create_action(
    statement: QualityStatement, data: dict[str, Any], user: User | None, round_: Round | None = None
) -> Action:
    """A new action on the statement, belonging to ``round_`` (which must be open) when given."""
    ensure_open(round_)
    values = _clean(data)
    _lock(round_)
    action = Action(statement=statement, round_id=round_.id if round_ else None, **values)
    audit.record_new(
        action, FIELDS, user=user, summary=f"Action added to {statement.name}: {values['description'][:80]}"
    )
    db.session.commit()
    return action


def update_action(action: Action, data: dict[str, Any], user: User | None) -> bool:
    """Apply changes; returns False when nothing changed. Refused once the action's round is signed off."""
    round_ = _round_of(action)
    ensure_open(round_)
    values = _clean(data)
    before = audit.snapshot(action, FIELDS)
    if not audit.changed(before, _plain(values)):
        return False
    _lock(round_)
    for name, value in values.items():
        setattr(action, name, value)
    db.session.flush()
    after = audit.snapshot(action, FIELDS)
    if before["status"] != after["status"]:
        summary = f"Status changed from {ActionStatus(before['status']).label} to {ActionStatus(after['status']).label}"
    else:
        summary = "Action edited"
    audit.record("update", action, user=user, summary=summary, before=before, after=after)
    db.session.commit()
    return True


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def _in_round(round_: Round | None):
    """Actions that belong to the round, or to no round at all."""
    if round_ is None:
        return Action.round_id.is_(None)
    return or_(Action.round_id.is_(None), Action.round_id == round_.id)


def actions_for(statement: QualityStatement, round_: Round | None) -> list[Action]:
    return db.session.scalars(
        select(Action)
        .where(Action.statement_id == statement.id, _in_round(round_))
        .order_by(Action.status == ActionStatus.DONE, Action.due_date.is_(None), Action.due_date, Action.id)
    ).all()


def overdue_actions(round_: Round | None, on: date | None = None) -> list[Action]:
    on = on or today()
    return db.session.scalars(
        select(Action)
        .join(QualityStatement, QualityStatement.id == Action.statement_id)
        .where(_in_round(round_), Action.status != ActionStatus.DONE, Action.due_date < on)
        .order_by(QualityStatement.position, Action.due_date)
    ).all()


def overdue_by_statement(round_: Round | None, on: date | None = None) -> Counter:
    """Statement key → number of overdue actions (one aggregate query)."""
    on = on or today()
    rows = db.session.execute(
        select(QualityStatement.key, func.count(Action.id))
        .join(Action, Action.statement_id == QualityStatement.id)
        .where(_in_round(round_), Action.status != ActionStatus.DONE, Action.due_date < on)
        .group_by(QualityStatement.key)
    )
    return Counter(dict(rows.all()))


def open_by_statement(round_: Round | None) -> Counter:
    """Statement key → number of actions not yet done (one aggregate query)."""
    rows = db.session.execute(
        select(QualityStatement.key, func.count(Action.id))
        .join(Action, Action.statement_id == QualityStatement.id)
        .where(_in_round(round_), Action.status != ActionStatus.DONE)
        .group_by(QualityStatement.key)
    )
    return Counter(dict(rows.all()))
