from sqlalchemy import select

from evidence.db import db
from evidence.models import User
from evidence.vocab import Role
from tests.conftest import sign_in


def test_admin_adds_a_user_who_can_then_sign_in(app, client, login):
    login(Role.ADMIN)
    response = client.post(
        "/admin/users",
        data={"name": "Ola Staff", "email": "ola@council.gov.uk", "role": "staff", "password": "long-enough-pw"},
    )
    assert response.status_code == 302
    page = client.get("/admin/users")
    assert b"Ola Staff" in page.data and b"Account created" in page.data
    other = app.test_client()
    assert other.post("/sign-in", data={"email": "ola@council.gov.uk", "password": "long-enough-pw"}).status_code == 302


def test_bad_new_user_is_named_and_nothing_saved(client, login):
    login(Role.ADMIN)
    response = client.post("/admin/users", data={"name": "", "email": "not-an-email", "role": "boss", "password": "x"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "There is a problem" in text and "Email address" in text and "Temporary password" in text
    # The rule in words, not WTForms' "Field must be between 10 and 200 characters long."
    assert "The password must be at least 10 characters long; this one has 1." in text
    assert "Field must be" not in text
    assert db.session.scalar(select(User).where(User.email == "not-an-email")) is None


def test_admin_changes_a_role_and_disables_an_account(app, client, login, make_user):
    login(Role.ADMIN)
    person = make_user(Role.STAFF)
    client.post(f"/admin/users/{person.id}/role", data={"role": "quality_lead"})
    assert db.session.get(User, person.id).role == "quality_lead"
    client.post(f"/admin/users/{person.id}/active")
    assert db.session.get(User, person.id).active is False
    assert sign_in(app.test_client(), person).status_code == 401


def test_admin_cannot_lock_themselves_out(client, login):
    me = login(Role.ADMIN)
    client.post(f"/admin/users/{me.id}/role", data={"role": "staff"})
    client.post(f"/admin/users/{me.id}/active")
    me = db.session.get(User, me.id)
    assert me.role == "admin" and me.active
