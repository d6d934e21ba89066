"""Secrets handed to people (session, password-link and API tokens) are stored only as their SHA-256,
and what makes a stored one still open the door is the same for each kind."""

from __future__ import annotations

import hashlib

from evidence.models import User, utcnow


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def live(model, secret: str, spent_at) -> list:
    """Where-conditions for the row of ``model`` that ``secret`` opens (in a query joined to its ``User``): the
    digest matches, ``spent_at`` (ended, used or revoked) is empty, the row has not expired, where rows of
    ``model`` expire, and the account is active."""
    conditions = [model.token_hash == digest(secret), spent_at.is_(None)]
    if hasattr(model, "expires_at"):
        conditions.append(model.expires_at > utcnow())
    return [*conditions, User.active.is_(True)]
