"""Server-side sessions: signing out ends a session for good, wherever its cookies were copied.

A signed-in browser's session and remember-me cookies carry a random token (``User.get_id``); the
database keeps its SHA-256 with the user, when the session expires and when it was ended. Each
request finds its user by that token in one indexed lookup, and finds nobody once the session has
ended (at sign-out, or when the account was disabled) or expired, and never for a disabled account.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from evidence.access.tokens import digest, live
from evidence.db import db
from evidence.models import User, UserSession, utcnow
from evidence.together.notifications import unread_of


def start(user: User, lifetime: timedelta) -> str:
    """A new session for ``user`` (a fresh token at every sign-in); returns its token, also set on the user."""
    now = utcnow()
    # The user's finished sessions are of no further use; clearing them keeps the table small.
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, or_(UserSession.ended_at.is_not(None), UserSession.expires_at <= now)
        )
    )
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=digest(token), user_id=user.id, created_at=now, expires_at=now + lifetime))
    db.session.commit()
    user.session_token = token
    return token


def user_for(token: str | None) -> User | None:
    """The active user whose live session has this token, or None. The user carries ``unread_on_arrival``,
    their unread notifications as the request found them, for the page's header: asked in the same query,
    since every page shows it (views that mark notifications read answer with a redirect)."""
    if not token:
        return None
    found = db.session.execute(
        select(User, unread_of(User.id))
        .join(UserSession, UserSession.user_id == User.id)
        .where(*live(UserSession, token, UserSession.ended_at))
    ).first()
    if found is None:
        return None
    user = found[0]
    user.unread_on_arrival = found[1]
    user.session_token = token
    return user


def end(token: str | None) -> None:
    """Sign-out: the session with this token ends."""
    if token:
        _end(UserSession.token_hash == digest(token))
        db.session.commit()


def end_all(user: User) -> None:
    """End every session of the user; the caller commits, with the change that calls for it."""
    _end(UserSession.user_id == user.id)


def end_others(user: User, keep: str | None) -> None:
    """End every session of the user but the one with token ``keep`` (after a password change); the caller
    commits."""
    condition = UserSession.user_id == user.id
    if keep:
        condition = condition & (UserSession.token_hash != digest(keep))
    _end(condition)


def _end(condition) -> None:
    db.session.execute(update(UserSession).where(condition, UserSession.ended_at.is_(None)).values(ended_at=utcnow()))
