"""Signing in and out, throttling, and the audit of every attempt."""

from sqlalchemy import select

from evidence import accounts
from evidence.db import db
from evidence.models import AuditEvent
from evidence.vocab import Role
from tests.conftest import PASSWORD, sign_in


def test_every_page_but_sign_in_needs_a_signed_in_user(client):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert "/sign-in?next=" in response.headers["Location"]
    assert client.get("/sign-in").status_code == 200


def test_wrong_password_is_refused_and_audited(client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    response = client.post("/sign-in", data={"email": user.email, "password": "not the password"})
    assert response.status_code == 401
    assert b"do not match an account" in response.data
    assert client.get("/dashboard").status_code == 302  # still signed out
    failed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == accounts.SIGN_IN_FAILED)).all()
    assert [e.summary for e in failed] == [user.email]


def test_unknown_account_gets_the_same_message(client):
    response = client.post("/sign-in", data={"email": "nobody@example.gov.uk", "password": "whatever-it-is"})
    assert response.status_code == 401
    assert b"do not match an account" in response.data


def test_sign_in_then_dashboard_then_sign_out(client, make_user):
    user = make_user(Role.QUALITY_LEAD, name="Priya Quality")
    response = sign_in(client, user)
    assert response.status_code == 302
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert b"Priya Quality" in page.data and b"Quality lead" in page.data
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == accounts.SIGN_IN)).user_id == user.id
    client.post("/sign-out")
    assert client.get("/dashboard").status_code == 302


def test_email_is_matched_without_regard_to_case(client, make_user):
    user = make_user(Role.MANAGER, email="manager@example.gov.uk")
    response = client.post("/sign-in", data={"email": "Manager@Example.gov.uk", "password": PASSWORD})
    assert response.status_code == 302 and user.email == "manager@example.gov.uk"


def test_next_only_follows_local_paths(client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    data = {"email": user.email, "password": PASSWORD}
    response = client.post("/sign-in?next=https://evil.example/", data=data)
    assert response.headers["Location"] == "/"
    client.post("/sign-out")
    response = client.post("/sign-in?next=/dashboard", data=data)
    assert response.headers["Location"] == "/dashboard"


def test_roles_are_enforced_on_the_dashboard(client, login):
    login(Role.STAFF)
    assert client.get("/dashboard").status_code == 403


def test_each_reader_role_sees_the_dashboard(app, make_user):
    for role in (Role.ADMIN, Role.QUALITY_LEAD, Role.MANAGER):
        client = app.test_client()
        sign_in(client, make_user(role))
        assert client.get("/dashboard").status_code == 200, role


def test_repeated_failures_pause_sign_in_for_the_account(client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    for _ in range(accounts.MAX_FAILURES_PER_ACCOUNT):
        assert client.post("/sign-in", data={"email": user.email, "password": "wrong-wrong"}).status_code == 401
    # Now even the right password is refused for a while, with a message that says so.
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.data
    assert client.get("/dashboard").status_code == 302


def test_repeated_failures_from_one_address_pause_it(client, make_user):
    for i in range(accounts.MAX_FAILURES_PER_ADDRESS):
        client.post("/sign-in", data={"email": f"guess{i}@example.gov.uk", "password": "wrong-wrong"})
    user = make_user(Role.QUALITY_LEAD)
    assert client.post("/sign-in", data={"email": user.email, "password": PASSWORD}).status_code == 429
    other_address = client.post(
        "/sign-in", data={"email": user.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert other_address.status_code == 302


def test_disabled_account_cannot_sign_in(client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    user.active = False
    db.session.commit()
    assert sign_in(client, user).status_code == 401
