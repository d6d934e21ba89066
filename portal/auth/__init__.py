"""Signing in and out, and loading the signed-in user."""

from flask import Flask, current_app

from evidence import accounts, throttle
from evidence.db import db
from evidence.models import User
from portal.config import ConfigError
from portal.extensions import login_manager

THROTTLE = "sign_in_throttle"


def init_app(app: Flask) -> None:
    try:
        storage = throttle.storage_for(app.config.get("REDIS_URL"), app.config["REDIS_KEY_PREFIX"])
    except Exception as exc:  # limits raises several kinds of error for a URL it cannot use
        raise ConfigError(f"REDIS_URL cannot be used for the sign-in counters: {exc}") from exc
    rules = app.config.get("SIGN_IN_RULES", accounts.SIGN_IN_RULES)
    app.extensions[THROTTLE] = throttle.SignInThrottle(storage, rules)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        try:
            return db.session.get(User, int(user_id))
        except ValueError:
            return None


def sign_in_throttle() -> throttle.SignInThrottle:
    return current_app.extensions[THROTTLE]
