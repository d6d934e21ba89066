"""Notifications: who is told what, in the portal, and whether that day's email digest carries it.

``notify`` adds a notification for each person who should hear of something, as part of the change
that caused it (it never commits), honouring each person's choice for that kind: in the portal and by
email, in the portal only, or not at all. Email is never sent from here: ``evidence.together.outbox``
gathers the notifications waiting for email into one digest per person, kind and day.

What a notification is about is a ``target`` the portal turns into a link ("item:12", "round:3",
"statement:3:safe-pathways", "review", with an optional "#anchor"), so the domain names no addresses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import func, select, update

from evidence import audit
from evidence.access.roles import COUNCIL, CURATORS, has_role
from evidence.db import db
from evidence.library import personal_data
from evidence.models import Notification, NotificationPreference, User, utcnow
from evidence.vocab import Channel, NotificationKind, Role

TITLE_MAX = 300
BODY_MAX = 2_000

# Who each kind is for: the kinds a person may be sent, and so the kinds their settings page offers.
AUDIENCE: dict[str, tuple[str, ...]] = {
    NotificationKind.SUBMISSION_REVIEWED: COUNCIL,
    NotificationKind.SUBMISSIONS_WAITING: (Role.QUALITY_LEAD,),
    NotificationKind.EVIDENCE_REVIEW: COUNCIL,
    NotificationKind.ACTION_DUE: COUNCIL,
    NotificationKind.ROUND_SIGNED_OFF: (Role.MANAGER, Role.QUALITY_LEAD),
    NotificationKind.MENTION: COUNCIL,
    NotificationKind.PEER_CHALLENGE: (Role.PEER_REVIEWER, Role.QUALITY_LEAD, Role.MANAGER),
}


class PreferenceError(ValueError):
    """Kind → message for each choice that cannot be saved; nothing was saved."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def kinds_for(user: User) -> list[NotificationKind]:
    return [kind for kind in NotificationKind if has_role(user, *AUDIENCE[kind])]


def preferences(user: User) -> dict[str, str]:
    """Kind → channel for every kind the person may be sent; email unless they chose otherwise."""
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.channel).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    return {kind.value: chosen.get(kind, Channel.EMAIL) for kind in kinds_for(user)}


def set_preferences(user: User, choices: Mapping[str, str]) -> bool:
    """Save the person's choices (kind → channel); True when anything changed."""
    offered = preferences(user)
    errors = {}
    for kind, channel in choices.items():
        if kind not in offered:
            errors[kind] = f"“{kind}” is not a kind of notification you are sent."
        elif channel not in set(Channel):
            errors[kind] = f"Choose one of: {', '.join(c.label for c in Channel)}."
    if errors:
        raise PreferenceError(errors)
    changed = {kind: channel for kind, channel in choices.items() if offered[kind] != channel}
    if not changed:
        return False
    for kind, channel in changed.items():
        row = db.session.get(NotificationPreference, (user.id, kind))
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, channel=channel))
        else:
            row.channel = channel
    audit.record(
        "update",
        user=user,
        entity_type="notification_preference",
        entity_id=user.id,
        summary="Notification settings changed",
        before={kind: offered[kind] for kind in changed},
        after=changed,
    )
    db.session.commit()
    return True


def _channels(users: Iterable[User], kind: str) -> dict[int, str]:
    ids = [u.id for u in users]
    if not ids:
        return {}
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.user_id, NotificationPreference.channel).where(
                NotificationPreference.kind == kind, NotificationPreference.user_id.in_(ids)
            )
        ).all()
    )
    return {i: chosen.get(i, Channel.EMAIL) for i in ids}


def looks_personal(*texts: str | None) -> bool:
    """Does any of the text look like it holds personal data (the guard's test)? Then no email quotes it."""
    return any(personal_data.scan_text(text) for text in texts if text)


def notify(
    users: Iterable[User | None],
    kind: str,
    title: str,
    body: str = "",
    *,
    target: str = "",
    actor: User | None = None,
    dedupe_key: str | None = None,
    sensitive: bool = False,
) -> list[Notification]:
    """Tell each of ``users`` (once each, never the person who acted) unless they turned this kind off.

    Joins the caller's transaction. With ``dedupe_key``, a person already told under that key is not told
    again (the daily scan's facts); the key is unique per person, so a second scan racing this one fails
    its insert rather than telling twice.
    """
    kind = NotificationKind(kind)
    actor_id = getattr(actor, "id", None)
    people: dict[int, User] = {}
    for user in users:
        if user is not None and user.active and user.id != actor_id and has_role(user, *AUDIENCE[kind]):
            people.setdefault(user.id, user)
    if dedupe_key is not None and people:
        told = set(
            db.session.scalars(
                select(Notification.user_id).where(
                    Notification.dedupe_key == dedupe_key, Notification.user_id.in_(list(people))
                )
            )
        )
        people = {i: u for i, u in people.items() if i not in told}
    channels = _channels(people.values(), kind)
    sensitive = sensitive or looks_personal(title, body)
    made = []
    for user_id, channel in channels.items():
        if channel == Channel.OFF:
            continue
        note = Notification(
            user_id=user_id,
            kind=kind,
            title=_cut(title, TITLE_MAX),
            body=_cut(body, BODY_MAX),
            target=target,
            channel=channel,
            dedupe_key=dedupe_key,
            sensitive=sensitive,
        )
        db.session.add(note)
        made.append(note)
    return made


def _cut(text: str, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def active_with_roles(*roles: str) -> list[User]:
    return db.session.scalars(
        select(User).where(User.active.is_(True), User.role.in_([str(r) for r in roles])).order_by(User.id)
    ).all()


def curators_for_review() -> list[User]:
    """Who hears of new submissions: the quality leads (administrators curate too, but are not sent these)."""
    return [u for u in active_with_roles(*CURATORS) if u.role == Role.QUALITY_LEAD]


# --- Reading and marking -----------------------------------------------------------------------


def unread_of(user_id):
    """How many notifications of ``user_id`` (an id, or a column of a query) are unread, as a SQL expression."""
    return (
        select(func.count(Notification.id))
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .scalar_subquery()
    )


def unread_count(user: User) -> int:
    return db.session.scalar(select(unread_of(user.id))) or 0


def listing(user: User):
    """The statement listing a person's notifications, newest first."""
    return (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def own(user: User, notification_id: int) -> Notification | None:
    """The person's notification with this id (another person's is not found)."""
    note = db.session.get(Notification, notification_id)
    return note if note is not None and note.user_id == user.id else None


def mark_read(note: Notification) -> None:
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.commit()


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return result.rowcount or 0
