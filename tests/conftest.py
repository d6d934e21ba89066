"""Fixtures in the manner of Flask's tutorial: an app per test on a fresh database.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set, in a database of
this run's own that is dropped at the end, so parallel runs never collide.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import g
from sqlalchemy import Integer, inspect, text

import evidence.models
from evidence.assessment import round_view
from evidence.db import db
from evidence.framework_sync import sync_framework
from evidence.models import User
from evidence.vocab import Role
from portal import MIGRATIONS_DIR, create_app
from portal.config import _database_url

evidence.models.PASSWORD_METHOD = "pbkdf2:sha256:1000"
PASSWORD = "correct horse battery"


def _postgres_database(base_url: str):
    import psycopg

    name = f"assure_test_{uuid.uuid4().hex[:10]}"
    admin = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(_database_url(base_url))
    # A test database need not outlive a crash, so commits do not wait for the disk (about 6 ms each
    # here, and the suite commits tens of thousands of times); the server's own setting is untouched.
    quick = urlencode({"options": "-csynchronous_commit=off"})
    yield urlunsplit(parts._replace(path="/" + name, query=quick))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        yield from _postgres_database(base)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture
def empty_database_url(tmp_path):
    """A database of the test's own with no tables: a new PostgreSQL database when the run uses one
    (dropped afterwards), else a SQLite file."""
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        yield from _postgres_database(base)
    else:
        yield f"sqlite:///{tmp_path / 'own.sqlite'}"


DATABASE_FIXTURES = {"database_url", "empty_database_url"}


def pytest_collection_modifyitems(config, items):
    """The PostgreSQL run takes only the tests that reach a database: the rest ran on SQLite already,
    and a test that never touches a database gives the same result on both."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    elsewhere = [item for item in items if not DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))]


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        stamp_head()
        db.engine.dispose()
    return database_url


def stamp_head() -> None:
    """Record the newest migration revision, as `flask db upgrade` would have: create_all builds the
    schema without Alembic, and a restore accepts only databases at a revision it knows."""
    with db.engine.begin() as connection:
        if inspect(connection).has_table("alembic_version"):
            # A test may have left a revision Alembic does not know, which it cannot stamp over.
            connection.execute(text("DELETE FROM alembic_version"))
        MigrationContext.configure(connection).stamp(ScriptDirectory(str(MIGRATIONS_DIR)), "heads")


def _empty_all_tables() -> None:
    """Empty the tables the last test wrote to, and start their ids at 1 again.

    Only tables that hold rows are touched: a TRUNCATE of every table costs PostgreSQL most of a second
    (a new file for each), which over the suite's tests is minutes, while a DELETE from the few with
    rows costs milliseconds. Rows go child tables first, as the foreign keys need.
    """
    tables = db.metadata.sorted_tables
    probe = " UNION ALL ".join(f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables)
    holding = set(db.session.scalars(text(probe)))
    for table in reversed(tables):
        if table.name in holding:
            db.session.execute(table.delete())
    if holding and db.engine.dialect.name == "postgresql":
        # SQLite numbers rows from the largest id left, so an empty table starts at 1 by itself.
        restarts = ", ".join(
            f"setval(pg_get_serial_sequence('\"{t.name}\"', '{column.name}'), 1, false)"
            for t in tables
            if t.name in holding
            for column in t.primary_key.columns
            if isinstance(column.type, Integer)
        )
        if restarts:
            db.session.execute(text(f"SELECT {restarts}"))
    db.session.commit()


@pytest.fixture
def app(_schema, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": _schema,
            "WTF_CSRF_ENABLED": False,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "SESSION_COOKIE_SECURE": False,
            # Exports and large imports run within the request; tests/portal/test_jobs*.py run them as jobs.
            "JOBS_RUNNER": "inline",
        }
    )

    # The test holds one app context open across requests, so `g` would carry the
    # signed-in user from one request (and one client) to the next; in production
    # every request has a fresh `g`.
    @app.before_request
    def _fresh_login_per_request():
        g.pop("_login_user", None)

    round_view.clear_cache()  # round ids and sign-off times repeat from one test's database to the next
    with app.app_context():
        _empty_all_tables()
        sync_framework()
        yield app
        db.session.remove()
        # Each test's app has its own engine: close its pooled connections now rather than when
        # the garbage collector gets to them, or parallel workers run PostgreSQL out of clients.
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    def make(role: str = Role.QUALITY_LEAD, email: str | None = None, name: str | None = None) -> User:
        email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.gov.uk"
        user = User(email=email, name=name or f"Test {Role(role).label}", role=role)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        return user

    return make


def sign_in(client, user: User, password: str = PASSWORD):
    return client.post("/sign-in", data={"email": user.email, "password": password})


@pytest.fixture
def login(client, make_user):
    """Sign the test client in with a new user of the given role; returns the user."""

    def do(role: str = Role.QUALITY_LEAD) -> User:
        user = make_user(role)
        response = sign_in(client, user)
        assert response.status_code == 302, response.data[:500]
        return user

    return do


PORTAL_URL = "https://assure.example-council.gov.uk"


@pytest.fixture
def smtp(app):
    """A real SMTP server on 127.0.0.1 for this test, with the portal's mail settings pointing at it;
    yields its inbox (``tests.smtp_server.Inbox``) and stops it afterwards."""
    from portal.extensions import mail
    from tests.smtp_server import SmtpServer

    with SmtpServer() as server:
        app.config.update(
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=server.port,
            MAIL_TIMEOUT=10,
            MAIL_DEFAULT_SENDER="Assure <assure@example-council.gov.uk>",
            PORTAL_URL=PORTAL_URL,
        )
        mail.init_app(app)
        yield server.inbox
