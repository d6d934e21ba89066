"""Improvement actions against quality statements: what, who, by when, and how far along."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from evidence import audit, bounds
from evidence.assessment.round_lock import RoundFrozenError, ensure_open, lock_open_rounds, lock_round
from evidence.db import db
from evidence.models import Action, QualityStatement, Round, User, today
from evidence.vocab import ActionStatus

__all__ = ["ActionConflict", "ActionError", "RoundFrozenError", "create_action", "set_status", "update_action"]

FIELDS = ["description", "owner", "due_date", "status"]
DESCRIPTION_MAX = 2_000
OWNER_MAX = 200


class ActionError(ValueError):
    """Field → message for each problem; nothing was saved."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class ActionConflict(ActionError):
    """Somebody else changed the action after the page showing it was loaded; nothing was saved."""

    def __init__(self, action: Action):
        super().__init__(
            {
                "status": f"Not saved: someone else changed this action after you opened the page. "
                f"It is now {ActionStatus(action.status).label.lower()}; check it and try again."
            }
        )


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


def update_action(
    action: Action, data: dict[str, Any], user: User | None, expected_version: int | str | None = None
) -> bool:
    """Apply changes; returns False when nothing changed. Refused once the action's round is signed off, and
    (with ``expected_version``, the version the editor started from) when someone else has changed it since."""
    round_ = _round_of(action)
    ensure_open(round_)
    values = _clean(data)
    if expected_version is not None and _version(expected_version) != action.version:
        raise ActionConflict(action)
    before = audit.snapshot(action, FIELDS)
    if not audit.changed(before, _plain(values)):
        return False
    _lock(round_)
    for name, value in values.items():
        setattr(action, name, value)
    try:
        db.session.flush()
    except StaleDataError:  # another change won the race between reading and writing
        db.session.rollback()
        raise ActionConflict(db.session.get(Action, action.id)) from None
    after = audit.snapshot(action, FIELDS)
    if before["status"] != after["status"]:
        summary = f"Status changed from {ActionStatus(before['status']).label} to {ActionStatus(after['status']).label}"
    else:
        summary = "Action edited"
    audit.record("update", action, user=user, summary=summary, before=before, after=after)
    db.session.commit()
    return True


def set_status(action: Action, status: str, user: User | None, expected_version: int | str | None) -> bool:
    """Change only the status (the action tracker's in-place edit), on the version the page showed."""
    data = {name: getattr(action, name) for name in FIELDS}
    return update_action(action, {**data, "status": status}, user, expected_version)


def _version(value: int | str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None  # unreadable: never matches, so the change is refused rather than guessed


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


# --- Owners ---------------------------------------------------------------------------

# What people write in the owner box when nobody owns the action yet.
NO_OWNER = frozenset({"", "-", "?", "n/a", "na", "none", "nobody", "tbc", "tbd", "tba", "to be confirmed", "unknown",
                      "unassigned", "not assigned", "not yet assigned"})  # fmt: skip


def has_owner(owner: str | None) -> bool:
    return " ".join((owner or "").split()).strip(" .").casefold() not in NO_OWNER


# --- The action tracker: every action across statements and rounds ---------------------------

OVERDUE, THIS_MONTH, NO_DATE = "overdue", "this_month", "none"
DUE_CHOICES = {OVERDUE: "Overdue", THIS_MONTH: "Due this month", NO_DATE: "No due date"}
NOT_DONE = "not_done"
STATUS_CHOICES = {NOT_DONE: "Not done yet (open or in progress)", **{s.value: s.label for s in ActionStatus}}
SOONEST, LATEST = "due", "due_desc"
SORTS = {SOONEST: "Due date, soonest first", LATEST: "Due date, latest first"}


@dataclass(frozen=True)
class TrackerFilters:
    owner: str | None = None
    status: str | None = None  # an ActionStatus, or NOT_DONE
    statement: str | None = None  # a statement key
    due: str | None = None  # one of DUE_CHOICES
    round: Round | None = None  # the round's actions and those of no round
    sort: str = SOONEST

    @property
    def active(self) -> bool:
        return any((self.owner, self.status, self.statement, self.due, self.round))


@dataclass(frozen=True)
class TrackedAction:
    """One action as the tracker lists and exports it."""

    id: int
    version: int
    description: str
    owner: str
    due_date: date | None
    status: str
    statement_key: str
    statement_name: str
    round_id: int | None
    round_name: str | None
    frozen: bool  # its round is signed off: it can no longer change
    overdue: bool

    @property
    def status_label(self) -> str:
        return ActionStatus(self.status).label

    @property
    def has_owner(self) -> bool:
        return has_owner(self.owner)


def _month(on: date) -> tuple[date, date]:
    first = on.replace(day=1)
    return first, bounds.add_months(first, 1)


def tracked_actions(filters: TrackerFilters, on: date | None = None) -> list[TrackedAction]:
    """Every action the filters allow, sorted by due date (no date last), then by statement."""
    on = on or today()
    query = select(Action).join(QualityStatement, QualityStatement.id == Action.statement_id)
    if filters.owner:
        query = query.where(Action.owner == filters.owner)
    if filters.status == NOT_DONE:
        query = query.where(Action.status != ActionStatus.DONE)
    elif filters.status:
        query = query.where(Action.status == filters.status)
    if filters.statement:
        query = query.where(QualityStatement.key == filters.statement)
    if filters.round is not None:
        query = query.where(_in_round(filters.round))
    if filters.due == OVERDUE:
        query = query.where(Action.status != ActionStatus.DONE, Action.due_date < on)
    elif filters.due == THIS_MONTH:
        start, end = _month(on)
        query = query.where(Action.due_date >= start, Action.due_date < end)
    elif filters.due == NO_DATE:
        query = query.where(Action.due_date.is_(None))
    due = Action.due_date.desc() if filters.sort == LATEST else Action.due_date
    query = query.order_by(Action.due_date.is_(None), due, QualityStatement.position, Action.id).options(
        selectinload(Action.statement), selectinload(Action.round)
    )
    return [
        TrackedAction(
            id=a.id,
            version=a.version,
            description=a.description,
            owner=a.owner,
            due_date=a.due_date,
            status=a.status,
            statement_key=a.statement.key,
            statement_name=a.statement.name,
            round_id=a.round_id,
            round_name=a.round.name if a.round else None,
            frozen=a.round is not None and a.round.signed_off,
            overdue=a.is_overdue(on),
        )
        for a in db.session.scalars(query)
    ]


def owners() -> list[str]:
    """Every owner an action names, for the tracker's filter."""
    return sorted(db.session.scalars(select(Action.owner).distinct()), key=str.casefold)
