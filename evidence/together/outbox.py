"""Email digests through an outbox: one email per person, kind and day, made once and sent until it is sent.

``flask --app portal notify`` (daily, from cron or a systemd timer) does three things in turn:

1. ``queue_digests(day, render)`` gathers each person's notifications waiting for email into one row of
   ``mail_outbox`` per (person, kind, day): the email's addresses, subject, plain text and HTML, and a
   Message-ID, made once. The row's unique key means a digest for a day is made once however often the
   command runs; notifications arriving after that day's digest was made wait for the next day's.
2. ``send_pending(send)`` sends every row not yet sent. A row is *claimed* (its ``claimed_at`` set and
   committed) before it is handed to the SMTP server, and marked sent (committed) once the server has
   accepted it. A send the server refuses, or that cannot connect, releases the claim with the error:
   the next run sends it again. So nothing is lost, and nothing is sent twice, but for one window:
3. a run killed after the SMTP server accepted a message and before the ``sent_at`` commit leaves the
   row claimed. Another run sends such a row again once its claim is ``CLAIM_TIMEOUT`` old (a live run
   finishes a send in seconds), with the same Message-ID, so that mail programs can tell the copy for
   what it is. That is the one way an email can arrive twice; it cannot be lost.

A row tried ``MAX_ATTEMPTS`` times is no longer tried; the administrator's page lists it with its error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from evidence.db import db
from evidence.models import MailOutbox, Notification, User, utcnow
from evidence.together.notifications import looks_personal, preferences
from evidence.vocab import Channel, NotificationKind

PENDING_DAYS = 7  # a notification not emailed within this many days is left to the portal alone
CLAIM_TIMEOUT = timedelta(minutes=15)
MAX_ATTEMPTS = 10
ERROR_MAX = 1_000
SUBJECT_PREFIX = "Assure: "
WITHHELD = "Not shown in this email because it may hold personal data: open it in the portal to read it."

# The subject of a digest of one, and of several ({n}): never any text a person wrote.
SUBJECTS = {
    NotificationKind.SUBMISSION_REVIEWED: ("your submission was reviewed", "{n} of your submissions were reviewed"),
    NotificationKind.SUBMISSIONS_WAITING: (
        "a new submission is waiting for review",
        "{n} new submissions are waiting for review",
    ),
    NotificationKind.EVIDENCE_REVIEW: (
        "evidence you own is due for review",
        "{n} items of evidence you own are due for review or stale",
    ),
    NotificationKind.ACTION_DUE: (
        "an improvement action you own is due",
        "{n} improvement actions you own are due or overdue",
    ),
    NotificationKind.ROUND_SIGNED_OFF: ("a round was signed off", "{n} rounds were signed off"),
    NotificationKind.MENTION: ("you were mentioned in a comment", "you were mentioned in {n} comments"),
    NotificationKind.PEER_CHALLENGE: ("an update on the peer challenge", "{n} updates on the peer challenge"),
}


@dataclass(frozen=True)
class Entry:
    """One notification as an email tells it: its words, unless they may hold personal data."""

    title: str
    body: str
    withheld: bool
    target: str
    created_at: datetime


@dataclass(frozen=True)
class Digest:
    kind: str
    day: date
    name: str
    email: str
    subject: str
    entries: list[Entry]

    @property
    def kind_label(self) -> str:
        return NotificationKind(self.kind).label


def subject_for(kind: str, count: int) -> str:
    one, many = SUBJECTS[NotificationKind(kind)]
    text = one if count == 1 else many.format(n=count)
    return SUBJECT_PREFIX + text


def entry_for(note: Notification) -> Entry:
    """The notification's words, with anything the personal data guard flags left out of the email."""
    title = note.title
    if looks_personal(title):
        title = f"{NotificationKind(note.kind).label}: details in the portal"
    withheld = note.sensitive or looks_personal(note.title, note.body)
    return Entry(title, "" if withheld else note.body, withheld, note.target, note.created_at)


def digest_for(user: User, kind: str, day: date, notes: list[Notification]) -> Digest:
    return Digest(kind, day, user.name, user.email, subject_for(kind, len(notes)), [entry_for(n) for n in notes])


def queue_digests(day: date, render: Callable[[Digest], tuple[str, str]], *, host: str = "localhost") -> int:
    """Make the day's digest of each (person, kind) with notifications waiting for email; how many were made.

    ``render`` turns a digest into its plain text and HTML. Each digest is made in its own transaction, so
    one that cannot be made leaves the others; a run racing this one makes each digest once (the unique key).
    """
    since = datetime.combine(utcnow().date() - timedelta(days=PENDING_DAYS), time.min)
    # Too old to be news: the portal still shows them.
    db.session.execute(
        update(Notification)
        .where(Notification.channel == Channel.EMAIL, Notification.outbox_id.is_(None), Notification.created_at < since)
        .values(channel=Channel.APP),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    groups = db.session.execute(
        select(Notification.user_id, Notification.kind)
        .join(User, User.id == Notification.user_id)
        .where(Notification.channel == Channel.EMAIL, Notification.outbox_id.is_(None), User.active.is_(True))
        .group_by(Notification.user_id, Notification.kind)
        .order_by(Notification.user_id, Notification.kind)
    ).all()
    made = 0
    for user_id, kind in groups:
        try:
            made += _queue_one(db.session.get(User, user_id), kind, day, render, host)
        except IntegrityError:
            db.session.rollback()  # another run made this digest first
    return made


def _queue_one(user: User, kind: str, day: date, render, host: str) -> int:
    waiting = (
        Notification.user_id == user.id,
        Notification.kind == kind,
        Notification.channel == Channel.EMAIL,
        Notification.outbox_id.is_(None),
    )
    if preferences(user).get(kind) != Channel.EMAIL:  # they changed their mind since: the portal only
        db.session.execute(
            update(Notification).where(*waiting).values(channel=Channel.APP),
            execution_options={"synchronize_session": False},
        )
        db.session.commit()
        return 0
    exists = db.session.scalar(
        select(MailOutbox.id).where(MailOutbox.user_id == user.id, MailOutbox.kind == kind, MailOutbox.day == day)
    )
    if exists:
        return 0  # the day's digest is made; these wait for the next day's
    notes = db.session.scalars(select(Notification).where(*waiting).order_by(Notification.id)).all()
    if not notes:
        return 0
    digest = digest_for(user, kind, day, notes)
    text, html = render(digest)
    row = MailOutbox(
        user_id=user.id,
        kind=kind,
        day=day,
        to_address=user.email,
        subject=digest.subject,
        text_body=text,
        html_body=html,
        message_id="",
    )
    db.session.add(row)
    db.session.flush()
    row.message_id = f"<assure.{row.id}.{kind.replace('_', '-')}.{day:%Y%m%d}@{host}>"
    ids = [n.id for n in notes]
    taken = db.session.execute(
        update(Notification).where(Notification.id.in_(ids), Notification.outbox_id.is_(None)).values(outbox_id=row.id),
        execution_options={"synchronize_session": False},
    ).rowcount
    if taken != len(ids):  # another run took some of them for its digest
        db.session.rollback()
        return 0
    db.session.commit()
    return 1


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _sendable(now: datetime):
    return (
        MailOutbox.sent_at.is_(None),
        MailOutbox.attempts < MAX_ATTEMPTS,
        or_(MailOutbox.claimed_at.is_(None), MailOutbox.claimed_at < now - CLAIM_TIMEOUT),
    )


def send_pending(send: Callable[[MailOutbox], None], *, now: datetime | None = None) -> SendResult:
    """Send every digest not yet sent (see the module's note for what is guaranteed)."""
    now = now or utcnow()
    result = SendResult()
    ids = db.session.scalars(select(MailOutbox.id).where(*_sendable(now)).order_by(MailOutbox.id)).all()
    db.session.commit()
    for row_id in ids:
        claimed = db.session.execute(
            update(MailOutbox)
            .where(MailOutbox.id == row_id, *_sendable(now))
            .values(claimed_at=utcnow(), attempts=MailOutbox.attempts + 1),
            execution_options={"synchronize_session": False},
        ).rowcount
        db.session.commit()
        if not claimed:
            continue  # another run is sending it
        row = db.session.get(MailOutbox, row_id, populate_existing=True)
        try:
            send(row)
        except Exception as error:  # any failure to hand it over: release the claim, keep the reason, try again
            message = f"{type(error).__name__}: {error}"[:ERROR_MAX]
            db.session.rollback()
            db.session.execute(
                update(MailOutbox).where(MailOutbox.id == row_id).values(claimed_at=None, last_error=message),
                execution_options={"synchronize_session": False},
            )
            db.session.commit()
            result.failed += 1
            result.errors.append(f"{row.to_address}: {message}")
            continue
        db.session.execute(
            update(MailOutbox)
            .where(MailOutbox.id == row_id)
            .values(sent_at=utcnow(), claimed_at=None, last_error=None),
            execution_options={"synchronize_session": False},
        )
        db.session.commit()
        result.sent += 1
    return result


@dataclass(frozen=True)
class OutboxStatus:
    waiting: int
    failing: int
    given_up: list[MailOutbox]
    last_sent_at: datetime | None


def status() -> OutboxStatus:
    """What the administrator's page says of the outbox."""
    unsent = MailOutbox.sent_at.is_(None)
    waiting = db.session.scalar(select(func.count(MailOutbox.id)).where(unsent, MailOutbox.attempts < MAX_ATTEMPTS))
    failing = db.session.scalar(
        select(func.count(MailOutbox.id)).where(
            unsent, MailOutbox.attempts < MAX_ATTEMPTS, MailOutbox.last_error.is_not(None)
        )
    )
    given_up = db.session.scalars(
        select(MailOutbox).where(unsent, MailOutbox.attempts >= MAX_ATTEMPTS).order_by(MailOutbox.id.desc()).limit(20)
    ).all()
    return OutboxStatus(
        waiting or 0,
        failing or 0,
        list(given_up),
        db.session.scalar(select(func.max(MailOutbox.sent_at))),
    )
