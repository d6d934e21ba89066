"""Personal API tokens: a script acts as the token's user, with that user's role and rights, within a scope.

A token is shown once, when it is made; the database keeps only its SHA-256 (the token is 256 random bits,
so a fast digest is as strong as a slow one here, and lets each request find its token in one indexed
lookup). A token stops working when it is revoked or its user is disabled.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from evidence import audit
from evidence.access.tokens import digest, live
from evidence.db import db
from evidence.models import ApiToken, User, utcnow

PREFIX = "assure_"
NAME_LENGTH = 100
# Longer than any token this module makes; anything longer is not looked up.
MAX_TOKEN_LENGTH = 100


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"

    @property
    def label(self) -> str:
        return {Scope.READ: "Read only", Scope.WRITE: "Read and write"}[self]


class TokenError(ValueError):
    """A token that cannot be made or revoked; the message says why."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the whole token, shown to its owner once and never again


def create(user: User, name: str, scope: str, *, by: User | None = None) -> NewToken:
    """A new token for ``user``; ``by`` is who made it (the user, or an administrator's command)."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("Name: say what the token is for, e.g. “Data warehouse feed”")
    if len(name) > NAME_LENGTH:
        raise TokenError(f"Name: at most {NAME_LENGTH} characters")
    if scope not in set(Scope):
        raise TokenError(f"Scope: choose {' or '.join(Scope)}")
    if not user.active:
        raise TokenError(f"{user.email} is disabled, so it cannot have API tokens")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, scope=scope, token_hash=digest(secret), hint=secret[:12])
    db.session.add(token)
    audit.record(
        "create",
        token,
        user=by or user,
        summary=f"API token “{name}” ({Scope(scope).label.lower()}) created for {user.email}",
        after={"name": name, "scope": scope, "user": user.email},
    )
    db.session.commit()
    return NewToken(token, secret)


def revoke(token: ApiToken, *, by: User) -> None:
    if token.revoked_at is not None:
        raise TokenError(f"the token “{token.name}” was already revoked")
    token.revoked_at = utcnow()
    audit.record("revoke", token, user=by, summary=f"API token “{token.name}” of {token.user.email} revoked")
    db.session.commit()


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens still in use, newest first."""
    return db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).order_by(ApiToken.id.desc())
    ).all()


def token_of(user: User, token_id: int) -> ApiToken | None:
    """One of the user's own tokens, by id (another user's token is not found)."""
    return db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))


def authenticate(secret: str | None) -> ApiToken | None:
    """The live token with this secret, whose user is active; None for anything else."""
    if not secret or len(secret) > MAX_TOKEN_LENGTH or not secret.startswith(PREFIX):
        return None
    token = db.session.scalar(
        select(ApiToken).join(User, User.id == ApiToken.user_id).where(*live(ApiToken, secret, ApiToken.revoked_at))
    )
    if token is not None:
        now = utcnow()
        # Written at most once a minute, so that a busy script does not write on every request.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= 60:
            token.last_used_at = now
            db.session.commit()
    return token


def allows_writing(token: ApiToken) -> bool:
    return token.scope == Scope.WRITE
