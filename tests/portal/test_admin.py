import html
import io

import pytest
import yaml
from sqlalchemy import select

from evidence.db import db
from evidence.models import AuditEvent, QualityStatement, User
from evidence.settings import FRAMEWORK_VERSION, get_setting
from evidence.vocab import Role
from quality_statements import DEFAULT_FRAMEWORK_PATH
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


# --- Loading a framework through the page ------------------------------------------------------------


def framework_file(**change) -> bytes:
    data = yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_text())
    for name, value in change.items():
        data[name] = value(data[name]) if callable(value) else value
    return yaml.safe_dump(data, allow_unicode=True).encode()


def upload(client, content: bytes, name: str = "framework-2027.yaml"):
    return client.post(
        "/admin/framework", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )


def wording(key: str) -> str:
    db.session.expire_all()
    return db.session.scalar(select(QualityStatement.we_statement).where(QualityStatement.key == key))


def test_admin_loads_a_new_framework_through_the_page(client, login):
    login(Role.ADMIN)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "flask --app portal framework load" not in page and "Load the framework" in page

    def reword(statements):
        statements[0]["we_statement"] = "We work with people to understand their needs – CQC’s 2027 wording."
        return statements

    response = upload(client, framework_file(version="2027.1", quality_statements=reword))
    assert response.status_code == 302
    assert get_setting(FRAMEWORK_VERSION) == "2027.1"
    assert wording("assessing-needs").endswith("CQC’s 2027 wording.")
    page = client.get(response.location).get_data(as_text=True)
    assert "Framework version 2027.1 loaded." in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "framework_load"))
    assert event.user is not None and "2027.1" in event.summary


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"version: 2027.1\nthemes: [unclosed", "not valid YAML at line 2"),
        (
            framework_file(version="2027.1", quality_statements=lambda s: [{**s[0], "theme": "nowhere"}, *s[1:]]),
            "unknown theme 'nowhere'",
        ),
        (
            framework_file(version="2027.1", quality_statements=lambda s: [q for q in s if q["key"] != "equity"]),
            "drops keys in use: equity",
        ),
        ("version: 2027.1\n# Qualität".encode("latin-1"), "is not UTF-8 text"),
        (b"", "must be a mapping with version, themes and quality_statements"),
    ],
)
def test_a_bad_framework_file_is_refused_and_nothing_changes(client, login, content, message):
    login(Role.ADMIN)
    before = wording("assessing-needs")
    response = upload(client, content)
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "framework-2027.yaml was not loaded; nothing was changed." in text and message in text
    assert get_setting(FRAMEWORK_VERSION) == "2026.1" and wording("assessing-needs") == before
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "framework_load")) is None


def test_a_framework_upload_without_a_file_says_so(client, login):
    login(Role.ADMIN)
    response = client.post("/admin/framework", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose the framework file to load." in response.get_data(as_text=True)
