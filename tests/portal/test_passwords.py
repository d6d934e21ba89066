"""Passwords: changing your own, an administrator's reset by one-time link or temporary password, the rule
said in words, and the counters that keep guessing slow."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from evidence.access import passwords
from evidence.access.throttle import Rules, SignInThrottle, storage_for
from evidence.db import db
from evidence.models import AuditEvent, PasswordReset, User
from evidence.vocab import Role
from portal.auth import THROTTLE
from tests.conftest import PASSWORD, sign_in

NEW = "a kettle on the landing"


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def actions_for(user: User) -> list[str]:
    return db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "app_user", AuditEvent.entity_id == user.id)
    ).all()


def signed_in(client) -> bool:
    response = client.get("/account")
    return response.status_code == 200


@pytest.fixture
def slow_guessing(app):
    """Counters small enough to reach in a test: three failures per account, four per address."""
    app.extensions[THROTTLE] = SignInThrottle(storage_for(None), Rules(3, 4, timedelta(minutes=15)))


# --- Changing your own ---------------------------------------------------------------------------


def test_changing_your_password_keeps_this_session_and_ends_the_others(app, client, make_user):
    user = make_user(Role.STAFF)
    other_browser = app.test_client()
    sign_in(client, user)
    sign_in(other_browser, user)

    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": NEW, "confirm": NEW}
    )

    assert response.status_code == 302
    assert signed_in(client) and not signed_in(other_browser)
    assert fresh(user).check_password(NEW) and not fresh(user).check_password(PASSWORD)
    assert passwords.CHANGED in actions_for(user)
    assert sign_in(app.test_client(), user, NEW).status_code == 302


def test_a_wrong_current_password_changes_nothing(client, make_user):
    user = make_user(Role.STAFF)
    sign_in(client, user)
    response = client.post(
        "/account/password", data={"current_password": "not it at all", "new_password": NEW, "confirm": NEW}
    )
    assert response.status_code == 422
    assert "That is not your current password." in response.get_data(as_text=True)
    assert fresh(user).check_password(PASSWORD)


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("short", "short", "The password must be at least 10 characters long; this one has 5."),
        ("x" * 201, "x" * 201, "The password must be at most 200 characters long; this one has 201."),
        (NEW, NEW + "!", "The two new passwords are not the same; type them again."),
        (PASSWORD, PASSWORD, "Choose a password different from your current one."),
    ],
)
def test_a_new_password_that_breaks_the_rule_is_refused_in_words(client, make_user, new, confirm, message):
    user = make_user(Role.STAFF)
    sign_in(client, user)
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": new, "confirm": confirm}
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in text and "Field must be" not in text
    assert fresh(user).check_password(PASSWORD)


def test_guessing_the_current_password_is_slowed_like_sign_in(client, make_user, slow_guessing):
    user = make_user(Role.STAFF)
    sign_in(client, user)
    statuses = [
        client.post(
            "/account/password", data={"current_password": f"guess number {n}", "new_password": NEW, "confirm": NEW}
        ).status_code
        for n in range(4)
    ]
    assert statuses == [422, 422, 422, 429]
    # Even the right password waits now: the allowance is spent.
    right = client.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW, "confirm": NEW})
    assert right.status_code == 429 and fresh(user).check_password(PASSWORD)


# --- An administrator's reset: a one-time link ------------------------------------------------------


def issue_link(client, person: User) -> str:
    response = client.post(f"/admin/users/{person.id}/password", data={"how": "link"})
    assert response.status_code == 201
    return re.search(r'value="(http://localhost/password-reset/[^"]+)"', response.get_data(as_text=True))[1]


def test_a_reset_link_works_once_and_ends_every_session(app, client, login, make_user):
    login(Role.ADMIN)
    person = make_user(Role.STAFF)
    their_browser = app.test_client()
    sign_in(their_browser, person)
    link = issue_link(client, person)
    token = link.rsplit("/", 1)[1]
    # Only the digest is kept.
    stored = db.session.scalars(select(PasswordReset.token_hash)).all()
    assert len(stored) == 1 and token not in stored[0]

    anonymous = app.test_client()
    page = anonymous.get(link)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    used = anonymous.post(link, data={"new_password": NEW, "confirm": NEW})
    assert used.status_code == 302 and used.location.endswith("/sign-in")

    assert fresh(person).check_password(NEW)
    assert not signed_in(their_browser)
    assert [a for a in actions_for(person) if a.startswith("password")] == [passwords.LINK_ISSUED, passwords.LINK_USED]
    again = app.test_client().post(link, data={"new_password": "someone else's idea", "confirm": "someone else's idea"})
    assert again.status_code == 410 and "no longer works" in again.get_data(as_text=True)
    assert fresh(person).check_password(NEW)


def test_an_expired_link_is_refused(app, client, login, make_user):
    login(Role.ADMIN)
    person = make_user(Role.STAFF)
    link = issue_link(client, person)
    db.session.execute(update(PasswordReset).values(expires_at=PasswordReset.expires_at - timedelta(hours=25)))
    db.session.commit()
    anonymous = app.test_client()
    assert anonymous.get(link).status_code == 410
    assert anonymous.post(link, data={"new_password": NEW, "confirm": NEW}).status_code == 410
    assert fresh(person).check_password(PASSWORD)


def test_a_newer_link_replaces_the_older_one(app, client, login, make_user):
    login(Role.ADMIN)
    person = make_user(Role.STAFF)
    first, second = issue_link(client, person), issue_link(client, person)
    anonymous = app.test_client()
    assert anonymous.get(first).status_code == 410
    assert anonymous.get(second).status_code == 200


def test_a_link_with_a_short_password_is_kept_for_another_try(app, client, login, make_user):
    login(Role.ADMIN)
    person = make_user(Role.STAFF)
    link = issue_link(client, person)
    anonymous = app.test_client()
    refused = anonymous.post(link, data={"new_password": "short", "confirm": "short"})
    assert refused.status_code == 422 and "at least 10 characters" in refused.get_data(as_text=True)
    assert anonymous.post(link, data={"new_password": NEW, "confirm": NEW}).status_code == 302


def test_links_that_lead_nowhere_are_counted_per_address(app, slow_guessing):
    anonymous = app.test_client()
    statuses = [anonymous.get(f"/password-reset/guess-{n}").status_code for n in range(5)]
    assert statuses == [410, 410, 410, 410, 429]


# --- An administrator's reset: a temporary password ----------------------------------------------------


def test_a_temporary_password_must_be_changed_at_the_next_sign_in(app, client, login, make_user):
    login(Role.ADMIN)
    person = make_user(Role.QUALITY_LEAD)
    their_browser = app.test_client()
    sign_in(their_browser, person)
    temporary = "given in person 42"
    response = client.post(f"/admin/users/{person.id}/password", data={"how": "temporary", "password": temporary})
    assert response.status_code == 302
    assert not signed_in(their_browser)  # signed out everywhere at once
    assert passwords.TEMPORARY in actions_for(person)

    browser = app.test_client()
    signed = sign_in(browser, person, temporary)
    assert signed.status_code == 302 and signed.location.endswith("/account/password")
    # Every page leads back to the change until it is done.
    for page in ("/dashboard", "/evidence", "/account"):
        refused = browser.get(page)
        assert refused.status_code == 302 and refused.location.endswith("/account/password"), page
    page = browser.get("/account/password").get_data(as_text=True)
    assert "Your password was set by an administrator" in page

    changed = browser.post(
        "/account/password", data={"current_password": temporary, "new_password": NEW, "confirm": NEW}
    )
    assert changed.status_code == 302
    assert browser.get("/dashboard").status_code == 200
    assert not fresh(person).must_change_password


def test_a_temporary_password_that_breaks_the_rule_is_refused(client, login, make_user):
    login(Role.ADMIN)
    person = make_user(Role.STAFF)
    response = client.post(f"/admin/users/{person.id}/password", data={"how": "temporary", "password": "short"})
    assert response.status_code == 422
    assert "The password must be at least 10 characters long" in response.get_data(as_text=True)
    assert fresh(person).check_password(PASSWORD) and not fresh(person).must_change_password


def test_a_new_account_chooses_its_own_password_at_the_first_sign_in(app, client, login):
    login(Role.ADMIN)
    form = client.get("/admin/users").get_data(as_text=True)
    assert re.search(r'<option selected value="staff">|<option value="staff" selected>', form), "staff by default"
    client.post(
        "/admin/users",
        data={"name": "Ola Staff", "email": "ola@council.gov.uk", "role": "staff", "password": "long-enough-pw"},
    )
    browser = app.test_client()
    signed = browser.post("/sign-in", data={"email": "ola@council.gov.uk", "password": "long-enough-pw"})
    assert signed.location.endswith("/account/password")


def test_only_administrators_reset_passwords(client, login, make_user):
    login(Role.QUALITY_LEAD)
    person = make_user(Role.STAFF)
    assert client.post(f"/admin/users/{person.id}/password", data={"how": "link"}).status_code == 403
    assert db.session.scalar(select(PasswordReset)) is None
