"""Signing in and out, throttling, and the audit of every attempt."""

import os
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import func, select, update

from evidence.access import accounts
from evidence.db import db
from evidence.models import AuditEvent, User, UserSession, utcnow
from evidence.vocab import Role
from portal import create_app
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


# --- The throttle under parallel attempts -----------------------------------------------------------------

PARALLEL = 30
REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_or_skip():
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis does not answer at {REDIS_URL}: {exc}", pytrace=False)
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    return connection


@pytest.fixture(params=["memory", "redis"])
def throttled(request, app):
    """Make an app whose sign-in counters are in this process's memory, or in the real Redis under a key
    prefix of this test's own (removed afterwards)."""
    made = []

    def make(**config):
        settings = {**app.config, "SIGN_IN_RULES": accounts.SIGN_IN_RULES, **config}
        if request.param == "redis":
            settings |= {"REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": f"assure-test-{uuid.uuid4().hex}"}
        made.append(settings.get("REDIS_KEY_PREFIX"))
        return create_app(settings)

    if request.param == "redis":
        connection = _redis_or_skip()
    yield make
    if request.param == "redis":
        for prefix in made:
            for key in connection.scan_iter(f"{prefix}*"):
                connection.delete(key)


@pytest.fixture
def password_checks(monkeypatch):
    """Count the passwords checked against a hash; each check takes a moment, as scrypt does, so that
    parallel attempts overlap."""
    checks = []
    lock = threading.Lock()
    check = User.check_password

    def counted(user, password):
        with lock:
            checks.append(user.email)
        time.sleep(0.05)
        return check(user, password)

    monkeypatch.setattr(User, "check_password", counted)
    return checks


def _at_once(app, attempts: list[dict]) -> list:
    """Post every attempt to the sign-in page at the same moment, each from a client of its own."""
    barrier = threading.Barrier(len(attempts))
    responses: list = [None] * len(attempts)

    def attempt(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        responses[n] = client.post("/sign-in", data=attempts[n])

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


def _failed_attempts_recorded() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == accounts.SIGN_IN_FAILED))


def test_parallel_wrong_passwords_for_one_account_are_checked_at_most_five_times(throttled, make_user, password_checks):
    app = throttled()
    user = make_user(Role.QUALITY_LEAD)
    responses = _at_once(app, [{"email": user.email, "password": f"guess number {n}"} for n in range(PARALLEL)])
    codes = Counter(r.status_code for r in responses)
    assert len(password_checks) <= accounts.MAX_FAILURES_PER_ACCOUNT
    assert PARALLEL - codes[429] <= accounts.MAX_FAILURES_PER_ACCOUNT
    assert set(codes) <= {401, 429}
    assert all(b"Too many failed sign-ins" in r.data for r in responses if r.status_code == 429)
    assert _failed_attempts_recorded() == PARALLEL  # every attempt is in the audit trail
    # The right password is refused too until the window has passed.
    assert sign_in(app.test_client(), user).status_code == 429


def test_parallel_attempts_from_one_address_are_checked_at_most_twenty_times(throttled, make_user, password_checks):
    app = throttled()
    users = [make_user(Role.STAFF) for _ in range(PARALLEL + 5)]
    responses = _at_once(app, [{"email": u.email, "password": "not the password"} for u in users])
    codes = Counter(r.status_code for r in responses)
    assert len(password_checks) <= accounts.MAX_FAILURES_PER_ADDRESS
    assert PARALLEL + 5 - codes[429] <= accounts.MAX_FAILURES_PER_ADDRESS
    assert set(codes) <= {401, 429}
    assert all(b"Too many failed sign-ins" in r.data for r in responses if r.status_code == 429)
    assert _failed_attempts_recorded() == PARALLEL + 5


def test_the_counters_are_forgotten_after_the_window(throttled, make_user):
    app = throttled(SIGN_IN_RULES=accounts.Rules(2, 20, timedelta(seconds=1)))
    user = make_user(Role.QUALITY_LEAD)
    client = app.test_client()
    for _ in range(2):
        assert sign_in(client, user, "wrong-wrong").status_code == 401
    assert sign_in(client, user).status_code == 429
    time.sleep(1.2)
    assert sign_in(client, user).status_code == 302


def test_a_right_password_forgives_the_accounts_failures_but_not_the_addresses(throttled, make_user):
    app = throttled()
    user = make_user(Role.QUALITY_LEAD)
    client = app.test_client()
    for _ in range(2):
        for _ in range(accounts.MAX_FAILURES_PER_ACCOUNT - 1):
            assert sign_in(client, user, "wrong-wrong").status_code == 401
        assert sign_in(client, user).status_code == 302
        client.post("/sign-out")
    # Eight failures so far from this address; twelve more use up its allowance, signed-in or not.
    for _ in range(accounts.MAX_FAILURES_PER_ADDRESS - 2 * (accounts.MAX_FAILURES_PER_ACCOUNT - 1)):
        sign_in(client, make_user(Role.STAFF), "wrong-wrong")
    assert sign_in(client, user).status_code == 429


def test_many_people_signing_in_from_one_address_are_not_throttled(throttled, make_user):
    app = throttled()
    for _ in range(accounts.MAX_FAILURES_PER_ADDRESS + 5):
        client = app.test_client()
        assert sign_in(client, make_user(Role.STAFF)).status_code == 302


def test_without_the_counters_no_password_is_checked(app, make_user, password_checks):
    unreachable = create_app({**app.config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    user = make_user(Role.QUALITY_LEAD)
    response = sign_in(unreachable.test_client(), user)
    assert response.status_code == 503
    assert b"not possible for a moment" in response.data
    assert password_checks == []
    assert _failed_attempts_recorded() == 1


# --- Sessions end at sign-out -----------------------------------------------------------------------------


def _cookies(client, *names) -> dict[str, str]:
    return {name: client.get_cookie(name).value for name in names if client.get_cookie(name)}


def _client_with(app, cookies: dict[str, str]):
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def _signed_in(client) -> bool:
    return client.get("/dashboard").status_code == 200


def test_a_copied_session_cookie_is_refused_after_sign_out(app, client, make_user):
    sign_in(client, make_user(Role.QUALITY_LEAD))
    copied = _cookies(client, "session")
    assert _signed_in(_client_with(app, copied))  # a copy works while the session lives
    client.post("/sign-out")
    assert not _signed_in(_client_with(app, copied))
    assert not _signed_in(client)


def test_a_copied_remember_cookie_is_refused_after_sign_out(app, client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    client.post("/sign-in", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    copied = _cookies(client, "remember_token")
    assert list(copied) == ["remember_token"]
    assert _signed_in(_client_with(app, copied))  # the browser was closed and opened again
    client.post("/sign-out")
    assert not _signed_in(_client_with(app, copied))
    assert not _signed_in(_client_with(app, _cookies(client, "session") | copied))


def test_every_sign_in_is_a_new_session(app, client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    sign_in(client, user)
    first = _cookies(client, "session")
    client.post("/sign-out")
    sign_in(client, user)
    assert _signed_in(client)
    assert not _signed_in(_client_with(app, first))  # signing in again does not bring the old session back


def test_signing_out_one_browser_leaves_the_others_signed_in(app, make_user):
    user = make_user(Role.QUALITY_LEAD)
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, user)
    sign_in(phone, user)
    laptop.post("/sign-out")
    assert not _signed_in(laptop) and _signed_in(phone)


def test_disabling_an_account_ends_its_sessions(app, client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    client.post("/sign-in", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    copied = _cookies(client, "session", "remember_token")
    admin = app.test_client()
    sign_in(admin, make_user(Role.ADMIN))
    assert admin.post(f"/admin/users/{user.id}/active").status_code == 302
    assert not _signed_in(client)
    admin.post(f"/admin/users/{user.id}/active")  # enabled again: the old sessions stay ended
    db.session.refresh(user)
    assert user.active
    assert not _signed_in(_client_with(app, copied))
    assert sign_in(client, user).status_code == 302 and _signed_in(client)


def test_an_expired_session_is_refused(app, client, make_user):
    sign_in(client, make_user(Role.QUALITY_LEAD))
    db.session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert not _signed_in(client)


@pytest.mark.parametrize("secure", [True, False])
def test_the_remember_cookie_follows_the_session_cookie(app, make_user, secure):
    served = create_app({**app.config, "SESSION_COOKIE_SECURE": secure})
    user = make_user(Role.QUALITY_LEAD)
    response = served.test_client().post("/sign-in", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert ("; Secure" in cookies["remember_token"]) is secure
    assert ("; Secure" in cookies["session"]) is secure
    assert "HttpOnly" in cookies["remember_token"]
    expires = parsedate_to_datetime(cookies["remember_token"].split("Expires=")[1].split(";")[0])
    lifetime = expires - datetime.now(UTC)
    assert timedelta(days=13) < lifetime <= timedelta(days=14)
