"""Signing in and out, and loading the signed-in user."""

from flask import Flask

from evidence.db import db
from evidence.models import User
from portal.extensions import login_manager


def init_app(app: Flask) -> None:
    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        try:
            return db.session.get(User, int(user_id))
        except ValueError:
            return None
