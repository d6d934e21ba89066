"""Accounts: creating users, and signing in with throttling and an audit record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from evidence import audit
from evidence.access import passwords, user_sessions
from evidence.access.throttle import Admission, Rules, SignInThrottle
from evidence.db import db
from evidence.models import User
from evidence.vocab import Role

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
# After this many failures within the window, further attempts are refused until it passes.
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
THROTTLE_WINDOW = timedelta(minutes=15)
SIGN_IN_RULES = Rules(MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, THROTTLE_WINDOW)

SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"


class AccountError(ValueError):
    pass


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def create_user(email: str, name: str, role: str, password: str, *, temporary: bool = False) -> User:
    """A new account. A ``temporary`` password (one an administrator chose) must be changed at the first sign-in."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError(f"'{email}' is not an email address")
    if role not in set(Role):
        raise AccountError(f"unknown role '{role}'; choose one of {', '.join(Role)}")
    if message := passwords.problem(password):
        raise AccountError(message)
    if db.session.scalar(select(User).where(User.email == email)):
        raise AccountError(f"a user with email {email} already exists")
    user = User(email=email, name=name.strip() or email, role=role, must_change_password=temporary)
    user.set_password(password)
    db.session.add(user)
    audit.record("create", user, summary=f"User {email} created with role {Role(role).label}")
    db.session.commit()
    return user


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    throttled: bool = False
    unavailable: bool = False  # the attempt counters could not be reached; no password was checked

    @property
    def ok(self) -> bool:
        return self.user is not None


def authenticate(email: str, password: str, remote_addr: str | None, *, throttle: SignInThrottle) -> SignInResult:
    """Check a sign-in; every attempt, refused or not, lands in the audit trail.

    The attempt is counted by ``throttle`` before the password is checked, so that however many arrive at
    once, no more than the limit are ever checked.
    """
    email = normalise_email(email)
    admission = throttle.admit(email, remote_addr)
    if admission is not Admission.ADMITTED:
        _record_failure(email, None, remote_addr)
        return SignInResult(
            None, throttled=admission is Admission.THROTTLED, unavailable=admission is Admission.UNAVAILABLE
        )
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.active or not user.check_password(password):
        _record_failure(email, user, remote_addr)
        return SignInResult(None)
    throttle.succeeded(email, remote_addr)
    audit.record(SIGN_IN, user, user=user, summary=email, remote_addr=remote_addr)
    db.session.commit()
    return SignInResult(user)


def _record_failure(email: str, user: User | None, remote_addr: str | None) -> None:
    # The summary holds the address tried, so the trail shows which accounts were tried, and how often.
    audit.record(
        SIGN_IN_FAILED,
        entity_type="app_user",
        entity_id=user.id if user else None,
        summary=email,
        remote_addr=remote_addr,
    )
    db.session.commit()


def people() -> list[User]:
    """Every account, those that can sign in first, by name."""
    return db.session.scalars(select(User).order_by(User.active.desc(), User.name)).all()


def change_role(user: User, role: str, by: User) -> None:
    if role not in set(Role):
        raise AccountError(f"unknown role '{role}'")
    if user.id == by.id and role != Role.ADMIN:
        raise AccountError("you cannot remove your own administrator role")
    audit.record_change(user, {"role": role}, user=by, summary=f"Role of {user.email} set to {Role(role).label}")
    db.session.commit()


def set_active(user: User, active: bool, by: User) -> None:
    if user.id == by.id and not active:
        raise AccountError("you cannot disable your own account")
    audit.record_change(
        user, {"active": active}, user=by, summary=f"{user.email} {'enabled' if active else 'disabled'}"
    )
    if not active:
        user_sessions.end_all(user)  # signed out everywhere, not only refused at the next sign-in
    db.session.commit()
