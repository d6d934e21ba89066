"""Passwords: the rule, changing your own, and an administrator's reset.

An administrator never learns a password someone keeps: a reset is either a one-time link (its token is
random, only its SHA-256 is stored, it works once and expires) or a temporary password that the next
sign-in must replace. Every change ends the person's other signed-in sessions and lands in the audit trail.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from evidence import audit
from evidence.access import user_sessions
from evidence.access.tokens import digest, live
from evidence.db import db
from evidence.models import PasswordReset, User, utcnow

MIN_LENGTH = 10
MAX_LENGTH = 200
RULE = (
    f"Use at least {MIN_LENGTH} characters (at most {MAX_LENGTH}). "
    "Three or four unrelated words make a password that is long and easy to remember."
)
RESET_LINK_LIFETIME = timedelta(hours=24)

CHANGED = "password_change"
TEMPORARY = "password_temporary"
LINK_ISSUED = "password_reset_link"
LINK_USED = "password_reset"


class PasswordError(ValueError):
    """A password that cannot be used; ``field`` names the form field the message belongs beside."""

    def __init__(self, message: str, field: str = "new_password"):
        super().__init__(message)
        self.field = field


def problem(password: str | None) -> str | None:
    """Why a new password breaks the rule, in words, or None when it keeps it."""
    length = len(password or "")
    if length < MIN_LENGTH:
        return f"The password must be at least {MIN_LENGTH} characters long; this one has {length}."
    if length > MAX_LENGTH:
        return f"The password must be at most {MAX_LENGTH} characters long; this one has {length:,}."
    return None


def _check(password: str) -> None:
    if message := problem(password):
        raise PasswordError(message)


def _record(action: str, user: User, by: User, summary: str, remote_addr: str | None = None) -> None:
    """Record a change to the account's password, and by whom, and commit it."""
    audit.record(action, user, user=by, summary=summary, remote_addr=remote_addr)
    db.session.commit()


def change_own(user: User, current: str, new: str) -> None:
    """The signed-in person changes their password; their other sessions end, this one stays."""
    if not user.check_password(current or ""):
        raise PasswordError("That is not your current password.", field="current_password")
    _check(new)
    if user.check_password(new):
        raise PasswordError("Choose a password different from your current one.")
    user.set_password(new)
    user.must_change_password = False
    user_sessions.end_others(user, keep=user.get_id())
    _record(CHANGED, user, user, f"{user.email} changed their password")


def set_temporary(user: User, password: str, *, by: User) -> None:
    """An administrator sets a temporary password: the person must choose their own at the next sign-in."""
    _check(password)
    user.set_password(password)
    user.must_change_password = True
    user_sessions.end_all(user)
    _forget_links(user)
    _record(TEMPORARY, user, by, f"Temporary password set for {user.email}; a new one is asked for at the next sign-in")


@dataclass(frozen=True)
class IssuedLink:
    token: str  # goes into the link, shown once; only its digest is kept
    reset: PasswordReset


def issue_link(user: User, *, by: User, lifetime: timedelta = RESET_LINK_LIFETIME) -> IssuedLink:
    """A one-time link for ``user`` to choose a new password; any earlier unused link stops working."""
    _forget_links(user)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    reset = PasswordReset(
        token_hash=digest(token), user_id=user.id, created_by_id=by.id, created_at=now, expires_at=now + lifetime
    )
    db.session.add(reset)
    _record(
        LINK_ISSUED,
        user,
        by,
        f"One-time password link issued for {user.email}, valid until {reset.expires_at:%d %b %Y %H:%M} UTC",
    )
    return IssuedLink(token, reset)


def link_for(token: str | None) -> PasswordReset | None:
    """The unused, unexpired reset of an active account that this token opens, or None."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        select(PasswordReset)
        .join(User, User.id == PasswordReset.user_id)
        .where(*live(PasswordReset, token, PasswordReset.used_at))
    )


def use_link(token: str, new: str, remote_addr: str | None = None) -> User:
    """Set the new password through a link; the link is then spent, and every session of the person ends."""
    reset = link_for(token)
    if reset is None:
        raise PasswordError("This link has expired or has been used already.", field="token")
    _check(new)
    # Spent in the same statement that checks it is unspent, so two uses at once cannot both succeed.
    spent = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:
        db.session.rollback()
        raise PasswordError("This link has expired or has been used already.", field="token")
    user = reset.user
    user.set_password(new)
    user.must_change_password = False
    user_sessions.end_all(user)
    _record(LINK_USED, user, user, f"{user.email} chose a new password with a one-time link", remote_addr)
    return user


def _forget_links(user: User) -> None:
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
