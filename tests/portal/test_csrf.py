"""Forms refuse a request without a valid CSRF token, and nothing changes."""

import pytest
from sqlalchemy import func, select

from evidence.db import db
from evidence.models import AuditEvent
from portal import create_app
from tests.conftest import PASSWORD


@pytest.fixture
def csrf_client(app):
    protected = create_app({**app.config, "WTF_CSRF_ENABLED": True})
    return protected.test_client()


def test_sign_in_without_a_token_is_refused(csrf_client, make_user):
    user = make_user()
    response = csrf_client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert b"nothing was changed" in response.data
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0  # not even a sign-in attempt recorded


def test_sign_in_with_the_token_works(csrf_client, make_user):
    user = make_user()
    page = csrf_client.get("/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = csrf_client.post("/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_sign_out_without_a_token_is_refused(csrf_client, make_user):
    user = make_user()
    page = csrf_client.get("/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    csrf_client.post("/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert csrf_client.post("/sign-out").status_code == 400
    assert csrf_client.get("/dashboard").status_code == 200  # still signed in
