"""What each event tells whom: a submission reviewed or waiting, a round signed off, and the daily reminders.

The reviewing and signing-off functions call these inside their own transactions, so a notification
exists exactly when the change it tells of was committed. ``scan_reminders`` finds what has come due by
a day (evidence reaching its review-by date, improvement actions falling due) and tells each fact once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from evidence.access.roles import COUNCIL
from evidence.db import db
from evidence.models import Action, EvidenceItem, QualityStatement, Round, User
from evidence.together.notifications import active_with_roles, curators_for_review, notify
from evidence.vocab import ActionStatus, NotificationKind, Role, RoundStatus, Status

REVIEW_NOTICE = timedelta(days=30)  # evidence: told this long before its review-by date, and again once stale
ACTION_NOTICE = timedelta(days=7)  # actions: told this long before the due date, and again once overdue


def when(day: date) -> str:
    return day.strftime("%-d %b %Y")


def _submitter(item: EvidenceItem) -> User | None:
    user_id = item.submitted_by_id or item.owner_id
    return db.session.get(User, user_id) if user_id else None


def submission_reviewed(item: EvidenceItem, reviewer: User | None, *, accepted: bool) -> None:
    """Tell the submitter their item was accepted, or returned with the reason."""
    by = f" by {reviewer.name}" if reviewer is not None else ""
    if accepted:
        title = f"{item.reference} accepted"
        body = f"“{item.title}” was accepted into the evidence library{by}."
        target = f"item:{item.id}"
    else:
        title = f"{item.reference} returned to you"
        body = f"“{item.title}” was returned{by}. The reason: {item.return_reason}"
        target = f"submission:{item.id}"
    notify(
        [_submitter(item)],
        NotificationKind.SUBMISSION_REVIEWED,
        title,
        body,
        target=target,
        actor=reviewer,
        sensitive=item.personal_data,
    )


def submission_waiting(item: EvidenceItem, submitter: User | None, *, resubmitted: bool = False) -> None:
    """Tell the quality leads a submission is waiting for review (emailed as one daily digest)."""
    who = f" from {submitter.name}" if submitter is not None else ""
    title = f"{item.reference} {'corrected and resubmitted' if resubmitted else 'submitted'}: waiting for review"
    notify(
        curators_for_review(),
        NotificationKind.SUBMISSIONS_WAITING,
        title,
        f"“{item.title}”{who}.",
        target=f"review:{item.id}",
        actor=submitter,
    )


def round_signed_off(round_: Round, user: User | None) -> None:
    """Tell the managers and quality leads a round was signed off."""
    by = f" by {user.name}" if user is not None else ""
    notify(
        active_with_roles(Role.MANAGER, Role.QUALITY_LEAD),
        NotificationKind.ROUND_SIGNED_OFF,
        f"“{round_.name}” signed off",
        f"Signed off{by}. The round is now frozen: its scores, text and exports stay as they are.",
        target=f"round:{round_.id}",
        actor=user,
    )


# --- The daily reminders -------------------------------------------------------------------------


def owner_user(owner: str | None) -> User | None:
    """The account an action's owner names, when it names one: its email, or the name of exactly one person.

    An action's owner is free text ("Head of Transitions", a team); only an owner who is a user is told."""
    text = (owner or "").strip().casefold()
    if not text:
        return None
    people = active_with_roles(*COUNCIL)
    by_email = [u for u in people if u.email.casefold() == text]
    if by_email:
        return by_email[0]
    by_name = [u for u in people if u.name.strip().casefold() == text]
    return by_name[0] if len(by_name) == 1 else None


@dataclass
class ScanResult:
    evidence: int = 0
    actions: int = 0

    @property
    def total(self) -> int:
        return self.evidence + self.actions


def scan_reminders(on: date) -> ScanResult:
    """Tell owners of accepted evidence due for review within 30 days (or stale), and of actions due within
    7 days (or overdue). Each fact is told once: its key names the item or action and the date, so a
    changed date is a new fact. Safe to run any number of times a day, and by two runs at once."""
    result = ScanResult()
    for attempt in range(2):
        try:
            result = ScanResult(_scan_evidence(on), _scan_actions(on))
            db.session.commit()
            return result
        except IntegrityError:  # another run told someone first; what is left is told on the second pass
            db.session.rollback()
            if attempt:
                raise
    return result


def _scan_evidence(on: date) -> int:
    rows = db.session.scalars(
        select(EvidenceItem)
        .where(
            EvidenceItem.status == Status.ACCEPTED,
            EvidenceItem.owner_id.is_not(None),
            EvidenceItem.review_by.is_not(None),
            EvidenceItem.review_by <= on + REVIEW_NOTICE,
        )
        .order_by(EvidenceItem.id)
    ).all()
    owners = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({i.owner_id for i in rows})))}
    told = 0
    for item in rows:
        stale = item.review_by < on
        if stale:
            title = f"{item.reference} is stale: it was due for review on {when(item.review_by)}"
        else:
            title = f"{item.reference} is due for review by {when(item.review_by)}"
        key = f"{'stale' if stale else 'review-due'}:{item.id}:{item.review_by.isoformat()}"
        told += len(
            notify(
                [owners.get(item.owner_id)],
                NotificationKind.EVIDENCE_REVIEW,
                title,
                f"“{item.title}”. Check it still holds, then update it or set a new review-by date.",
                target=f"item:{item.id}",
                dedupe_key=key,
                sensitive=item.personal_data,
            )
        )
    return told


def _scan_actions(on: date) -> int:
    open_rounds = select(Round.id).where(Round.status == RoundStatus.OPEN)
    rows = db.session.execute(
        select(Action, QualityStatement.key, QualityStatement.name)
        .join(QualityStatement, QualityStatement.id == Action.statement_id)
        .where(
            Action.status != ActionStatus.DONE,
            Action.due_date.is_not(None),
            Action.due_date <= on + ACTION_NOTICE,
            # A signed-off round's actions are frozen there; the open round carries forward the unfinished ones.
            or_(Action.round_id.is_(None), Action.round_id.in_(open_rounds)),
        )
        .order_by(Action.id)
    ).all()
    told = 0
    for action, key, name in rows:
        owner = owner_user(action.owner)
        if owner is None:
            continue
        overdue = action.due_date < on
        title = (
            f"Action overdue since {when(action.due_date)}: {name}"
            if overdue
            else f"Action due on {when(action.due_date)}: {name}"
        )
        told += len(
            notify(
                [owner],
                NotificationKind.ACTION_DUE,
                title,
                action.description,
                target=f"statement:{action.round_id or ''}:{key}#actions",
                dedupe_key=f"{'action-overdue' if overdue else 'action-due'}:{action.id}:{action.due_date.isoformat()}",
            )
        )
    return told
