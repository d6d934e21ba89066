"""Signing in with the council's directory, against a real OpenID provider (tests/oidc) on 127.0.0.1.

Every refusal here is the portal's own verification of what the provider really sent: the provider
issues tokens for another audience, signed with a key it does not publish, or already expired, for the
clients configured to do so.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from evidence.access import sso
from evidence.db import db
from evidence.models import AuditEvent, User
from evidence.vocab import Role
from tests.conftest import PASSWORD, sign_in
from tests.openid_provider import (
    BAD_SIGNATURE,
    EXPIRED,
    WRONG_AUDIENCE,
    openid_provider,  # noqa: F401  (the fixture)
    portal_signing_in_through,
    through_directory,
)

ADA = "ada.lovelace@example-council.gov.uk"
GRACE = "grace@example-council.gov.uk"
MALLORY = "mallory@example-council.gov.uk"
CALLBACK = "http://localhost/sign-in/directory/callback"


@pytest.fixture
def directory(app, openid_provider):  # noqa: F811
    """directory(client_id=…) → a test client of a portal that signs in through the provider as that client."""
    contexts = []

    def make(client_id: str = "assure", **config):
        portal = portal_signing_in_through(app, openid_provider, client_id, **config)
        context = portal.app_context()
        context.push()
        contexts.append(context)
        return portal.test_client()

    yield make
    for context in reversed(contexts):
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()  # its connections are not left for the garbage collector to close
        context.pop()


def directory_sign_in(client, email: str):
    """Sign in through the directory as ``email``; the portal's answer to the callback."""
    start = client.get("/sign-in/directory")
    assert start.status_code == 302, start.data[:300]
    return client.get(through_directory(start.headers["Location"], email, CALLBACK))


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def signed_in(client) -> bool:
    return client.get("/dashboard").status_code in (200, 403)  # 403: signed in, but a role without a dashboard


def set_rules(**rules) -> None:
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN))
    sso.save_rules(sso.SignInRules(**rules), by=admin)


def test_signing_in_through_the_directory_links_the_account_and_is_audited(directory, make_user):
    client = directory()
    user = make_user(Role.MANAGER, email=ADA)
    start = client.get("/sign-in/directory")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]  # PKCE
    assert query["state"][0] and query["nonce"][0] and query["client_id"] == ["assure"]

    answer = client.get(through_directory(start.headers["Location"], ADA, CALLBACK))
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert client.get("/dashboard").status_code == 200
    db.session.expire_all()
    linked = db.session.get(User, user.id)
    assert (linked.oidc_subject, linked.role) == ("ada-subject", Role.MANAGER)
    assert [e.summary for e in events("sign_in")] == [f"{ADA} (directory)"]

    # Next time the subject finds the account, even after its email address changed in the portal.
    client.post("/sign-out")
    linked.email = "a.lovelace@example-council.gov.uk"
    db.session.commit()
    assert directory_sign_in(client, ADA).status_code == 302
    assert signed_in(client)


def test_someone_unknown_is_refused_unless_an_administrator_allows_new_accounts(directory, make_user):
    make_user(Role.ADMIN)
    client = directory()
    refused = directory_sign_in(client, ADA)
    assert refused.status_code == 403
    assert "there is no Assure account for this directory account" in refused.get_data(as_text=True)
    assert not signed_in(client)
    assert db.session.scalar(select(User).where(User.email == ADA)) is None

    set_rules(create_users=True, role_mapping={"assure-quality-leads": Role.QUALITY_LEAD})
    assert directory_sign_in(client, ADA).status_code == 302
    created = db.session.scalar(select(User).where(User.email == ADA))
    assert (created.name, created.role, created.oidc_subject) == ("Ada Lovelace", Role.QUALITY_LEAD, "ada-subject")
    assert client.get("/review").status_code == 200  # a quality lead's page

    other = directory()
    assert directory_sign_in(other, GRACE).status_code == 302  # in no mapped group: staff
    assert db.session.scalar(select(User.role).where(User.email == GRACE)) == Role.STAFF


def test_an_unverified_email_address_matches_nobody(directory, make_user):
    make_user(Role.QUALITY_LEAD, email=MALLORY)
    client = directory()
    refused = directory_sign_in(client, MALLORY)
    assert refused.status_code == 403 and not signed_in(client)
    assert db.session.scalar(select(User.oidc_subject).where(User.email == MALLORY)) is None
    assert "mallory" in events("sign_in_failed")[-1].summary


def test_a_disabled_account_stays_disabled(directory, make_user):
    user = make_user(Role.MANAGER, email=ADA)
    user.active = False
    db.session.commit()
    client = directory()
    refused = directory_sign_in(client, ADA)
    assert refused.status_code == 403
    assert "this account is disabled" in refused.get_data(as_text=True)
    assert not signed_in(client)
    db.session.expire_all()
    assert db.session.get(User, user.id).active is False


@pytest.mark.parametrize(
    ("client_id", "message"),
    [
        (WRONG_AUDIENCE, "the directory&#39;s answer was issued to another application"),
        (BAD_SIGNATURE, "the directory&#39;s answer is not signed with the directory&#39;s key"),
        (EXPIRED, "the directory&#39;s answer has expired"),
    ],
)
def test_an_id_token_that_fails_verification_is_refused(directory, make_user, client_id, message):
    make_user(Role.MANAGER, email=ADA)
    client = directory(client_id)
    refused = directory_sign_in(client, ADA)
    assert refused.status_code == 401
    assert message in refused.get_data(as_text=True)
    assert not signed_in(client)
    assert events("sign_in") == []
    assert "(directory: the directory's answer" in events("sign_in_failed")[-1].summary


def test_a_replayed_answer_is_refused(directory, make_user):
    make_user(Role.MANAGER, email=ADA)
    client = directory()
    start = client.get("/sign-in/directory")
    callback = through_directory(start.headers["Location"], ADA, CALLBACK)
    assert client.get(callback).status_code == 302
    client.post("/sign-out")

    replayed = client.get(callback)
    assert replayed.status_code == 401
    assert "this sign-in was already completed or has expired" in replayed.get_data(as_text=True)
    assert not signed_in(client)
    # And in another browser, which never started a sign-in.
    assert directory().get(callback).status_code == 401


def test_sign_out_ends_the_session_and_offers_the_directory_sign_out(directory, make_user, openid_provider):  # noqa: F811
    make_user(Role.MANAGER, email=ADA)
    client = directory()
    directory_sign_in(client, ADA)
    signed_out = client.post("/sign-out", follow_redirects=True)
    assert "You have signed out." in signed_out.get_data(as_text=True)
    assert "Sign out of your council account too" in signed_out.get_data(as_text=True)
    assert not signed_in(client)

    leave = client.get("/sign-out/directory")
    assert leave.status_code == 302
    target = urlsplit(leave.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == openid_provider.issuer + "/session/end"
    query = parse_qs(target.query)
    assert query["client_id"] == ["assure"] and query["post_logout_redirect_uri"] == ["http://localhost/sign-in"]
    # Offered once: the sign-in page no longer says so.
    assert "Sign out of your council account too" not in client.get("/sign-in").get_data(as_text=True)


def test_a_password_sign_in_does_not_offer_the_directory_sign_out(directory, make_user):
    user = make_user(Role.MANAGER)
    client = directory()
    sign_in(client, user)
    page = client.post("/sign-out", follow_redirects=True).get_data(as_text=True)
    assert "You have signed out." in page and "Sign out of your council account too" not in page


def test_password_sign_in_can_be_switched_off_for_all_but_the_break_glass_administrator(directory, make_user):
    admin = make_user(Role.ADMIN)
    staff = make_user(Role.STAFF)
    client = directory()
    with pytest.raises(sso.RulesError, match="Name the administrator"):
        set_rules(password_sign_in=False)
    with pytest.raises(sso.RulesError, match="is not an active administrator"):
        set_rules(password_sign_in=False, break_glass_email=staff.email)
    set_rules(password_sign_in=False, break_glass_email=admin.email.upper())

    page = client.get("/sign-in").get_data(as_text=True)
    assert "Sign in with your council account" in page
    assert "Administrator's emergency sign-in with a password" in page
    refused = sign_in(client, staff)
    assert refused.status_code == 403
    assert "Password sign-in is switched off" in refused.get_data(as_text=True)
    assert not signed_in(client)
    assert events("sign_in_failed")[-1].summary == f"{staff.email} (password sign-in is off)"
    assert sign_in(client, admin, PASSWORD).status_code == 302


def test_without_a_directory_passwords_work_whatever_the_setting(client, make_user):
    admin = make_user(Role.ADMIN)
    staff = make_user(Role.STAFF)
    sso.save_rules(sso.SignInRules(password_sign_in=False, break_glass_email=admin.email), by=admin)
    page = client.get("/sign-in").get_data(as_text=True)
    assert "council account" not in page
    assert client.get("/sign-in/directory").status_code == 404
    # Nobody is locked out of a portal that has no directory to sign in with.
    assert sign_in(client, staff).status_code == 302


def test_the_administrators_page_edits_the_rules(client, login):
    admin = login(Role.ADMIN)
    page = client.get("/admin/sign-in")
    assert page.status_code == 200 and "Roles for directory groups and app roles" in page.get_data(as_text=True)
    bad = client.post("/admin/sign-in", data={"role_mapping": "Assure.Leads = quality_lead\nAssure.Boss = boss"})
    assert bad.status_code == 422
    assert "Line 2: “boss” is not a role" in bad.get_data(as_text=True)
    assert sso.load_rules().role_mapping == {}

    saved = client.post(
        "/admin/sign-in",
        data={
            "create_users": "y",
            "role_mapping": "Assure.Leads = quality_lead\n\nAssure.Admins=admin",
            "break_glass_email": admin.email,
        },
    )
    assert saved.status_code == 302
    rules = sso.load_rules()
    assert rules.create_users and rules.password_sign_in is False  # an unticked box is off
    assert rules.role_mapping == {"Assure.Leads": Role.QUALITY_LEAD, "Assure.Admins": Role.ADMIN}
    assert rules.role_for(["Assure.Leads", "Assure.Admins"]) == Role.ADMIN
    assert rules.break_glass_email == admin.email
    assert "Sign-in settings changed" in [e.summary for e in events("update")]
    refused = client.post("/admin/sign-in", data={"role_mapping": "", "break_glass_email": ""})  # nobody left
    assert refused.status_code == 422 and "Name the administrator" in refused.get_data(as_text=True)
