"""Signing in and out, and loading the signed-in user."""

from flask import Flask, current_app

from evidence.access import accounts, throttle, user_sessions
from portal.config import ConfigError
from portal.extensions import login_manager

THROTTLE = "sign_in_throttle"
COUNTERS = "assure_counters"  # the limits storage the sign-in throttle counts in; the API's rate limit shares it


def init_app(app: Flask) -> None:
    try:
        storage = throttle.storage_for(app.config.get("REDIS_URL"), app.config["REDIS_KEY_PREFIX"])
    except Exception as exc:  # limits raises several kinds of error for a URL it cannot use
        raise ConfigError(f"REDIS_URL cannot be used for the sign-in counters: {exc}") from exc
    rules = app.config.get("SIGN_IN_RULES", accounts.SIGN_IN_RULES)
    app.extensions[COUNTERS] = storage
    app.extensions[THROTTLE] = throttle.SignInThrottle(storage, rules)

    from portal.auth import oidc

    oidc.init_app(app)

    # Flask-Login hands over what User.get_id gave it at sign-in (from the session or the remember cookie):
    # the token of a server-side session.
    login_manager.user_loader(user_sessions.user_for)


def sign_in_throttle() -> throttle.SignInThrottle:
    return current_app.extensions[THROTTLE]
