"""Who is calling the API: a personal API token in the Authorization header, and nothing else.

The session cookie is never read here, so a page on another site cannot make a signed-in browser call
the API, and the API needs no CSRF token. The token's user is the request's ``current_user``, so every
view's ``@allow`` rule and every object-level right apply to it as to that person. Each token's requests
are counted, atomically, in the storage the sign-in throttle uses (memory, or Redis when ``REDIS_URL``
is set).
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, g, request
from limits import parse
from limits.errors import StorageError
from limits.strategies import FixedWindowRateLimiter

from evidence.access import api_tokens
from portal.api.errors import fail
from portal.auth import COUNTERS
from portal.config import ConfigError

LIMITER = "assure_api_limiter"
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def init_app(app: Flask) -> None:
    try:
        limit = parse(app.config["API_RATE_LIMIT"])
    except ValueError as exc:
        raise ConfigError(f"API_RATE_LIMIT must read like 120/minute, not {app.config['API_RATE_LIMIT']!r}") from exc
    app.extensions[LIMITER] = (FixedWindowRateLimiter(app.extensions[COUNTERS]), limit)


def _bearer() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").strip().partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def _count(token_id: int) -> None:
    limiter, limit = current_app.extensions[LIMITER]
    key = str(token_id)
    try:
        allowed = limiter.hit(limit, "api-token", key)
        if allowed:
            return
        reset = limiter.get_window_stats(limit, "api-token", key).reset_time
    except StorageError:
        fail(503, "The request counters cannot be reached, so no request is taken for a moment; try again shortly.")
    wait = max(1, math.ceil(reset - time.time()))
    fail(
        429,
        f"This token has made {limit.amount} requests in {limit.get_expiry()} seconds, its limit; "
        f"try again in {wait} seconds.",
        headers={"Retry-After": str(wait)},
    )


def authenticate() -> None:
    """Before every API view: the token's user signs the request in, or the request is refused."""
    g._login_user = current_app.login_manager.anonymous_user()  # never the session's user
    secret = _bearer()
    if secret is None:
        fail(401)
    token = api_tokens.authenticate(secret)
    if token is None:
        fail(401, "The token is not valid: it may have been revoked, or its account disabled.")
    _count(token.id)
    if request.method not in READ_METHODS and not api_tokens.allows_writing(token):
        fail(403, "This token is read-only; create a read-and-write token to change anything.")
    g._login_user = token.user
    g.api_token = token
