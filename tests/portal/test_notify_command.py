"""`flask --app portal notify` as cron runs it: its own process, the schema from the migrations, the mail
settings from the environment, a real SMTP server on 127.0.0.1. A returned submission, a stale item and a
due action each produce exactly one correct email, however often it runs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from evidence.db import db
from evidence.framework_sync import sync_framework
from evidence.library import items
from evidence.models import User, today
from evidence.vocab import Kind, Role
from portal import create_app
from tests.factories import make_action, make_item
from tests.smtp_server import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
PORTAL_URL = "https://assure.example-council.gov.uk"


def flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portal", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )


def person(email: str, role: str) -> User:
    user = User(email=email, name=email.split("@")[0].title(), role=role)
    user.set_password("correct horse battery")
    db.session.add(user)
    db.session.commit()
    return user


def test_one_email_each_for_a_returned_submission_a_stale_item_and_a_due_action(tmp_path):
    url = f"sqlite:///{tmp_path / 'assure.sqlite'}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "notify-test", "FLASK_APP": "portal"}
    env.pop("FLASK_DEBUG", None)
    upgraded = flask(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        sync_framework()
        staff = person("pat.staff@example-council.gov.uk", Role.STAFF)
        lead = person("lee.lead@example-council.gov.uk", Role.QUALITY_LEAD)
        fields = {"title": "Carers survey", "source": "SACE", "survey_name": "SACE", "result_percent": 61}
        returned = items.create_item(Kind.SURVEY, fields, user=staff)
        items.return_item(returned, user=lead, reason="Which year is this?")
        stale = make_item("Discharge audit", owner_id=staff.id, review_by=today() - timedelta(days=2))
        make_action(
            "safe-pathways", "Refresh the discharge leaflet", owner=staff.email, due_date=today() + timedelta(3)
        )
        returned_id, stale_id = returned.id, stale.id
        db.session.remove()
        db.engine.dispose()

    with SmtpServer() as server:
        mail = {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(server.port),
            "MAIL_DEFAULT_SENDER": "Assure <assure@example-council.gov.uk>",
            "PORTAL_URL": PORTAL_URL + "/",
        }
        first = flask({**env, **mail}, "notify")
        assert first.returncode == 0, first.stdout + first.stderr
        again = flask({**env, **mail}, "notify")
        assert again.returncode == 0 and "0 made" in again.stdout and "0 sent" in again.stdout

    to_staff = {r.subject: r for r in server.inbox.to("pat.staff@example-council.gov.uk")}
    assert sorted(to_staff) == [
        "Assure: an improvement action you own is due",
        "Assure: evidence you own is due for review",
        "Assure: your submission was reviewed",
    ]
    assert f"{PORTAL_URL}/my-submissions/{returned_id}/edit" in to_staff["Assure: your submission was reviewed"].part(
        "plain"
    )
    assert "Which year is this?" in to_staff["Assure: your submission was reviewed"].part("html")
    assert f"{PORTAL_URL}/evidence/{stale_id}" in to_staff["Assure: evidence you own is due for review"].part("plain")
    assert "Refresh the discharge leaflet" in to_staff["Assure: an improvement action you own is due"].part("plain")
    # The lead was told of the submission as it arrived: one digest of it, and nothing else.
    assert [r.subject for r in server.inbox.to("lee.lead@example-council.gov.uk")] == [
        "Assure: a new submission is waiting for review"
    ]
    assert len(server.inbox.received) == 4
